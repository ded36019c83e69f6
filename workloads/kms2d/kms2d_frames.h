/* kms2d_frames.h: what kms2d puts on the screen that others check for. Its
 * copy and flip phases show, full screen and for their whole budget, a
 * buffer of this one XRGB8888 colour: the nested lab (harness/run/nested_lab.c)
 * looks for that frame on the outermost display. */
#ifndef KMS2D_FRAMES_H
#define KMS2D_FRAMES_H

#define KMS2D_COPY_XRGB 0xff336699u

#endif
