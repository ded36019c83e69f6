/* control_doc.h: the tests' look-ups in vgpu-mediator's control document
 * (mediator/process/control.h): a field of a vGPU (or vtest endpoint) by name. */
#ifndef VGPUBENCH_CONTROL_DOC_H
#define VGPUBENCH_CONTROL_DOC_H

#include <json-c/json.h>
#include <string.h>

/* Field `key` of the vGPU named `name` in a parsed control document, or NULL. */
static inline json_object *control_doc_field(json_object *doc, const char *name, const char *key)
{
	json_object *arr, *v, *f;

	if (!doc || !json_object_object_get_ex(doc, "vgpus", &arr))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(v, "name", &f) && !strcmp(json_object_get_string(f), name))
			return json_object_object_get_ex(v, key, &f) ? f : NULL;
	}
	return NULL;
}

#endif
