/* gpuhog.c: a GPU hog for the sharing-quality scenarios. Full-screen draws
 * of a fragment-heavy shader into an off-screen EGL surface (the surfaceless
 * platform: a render node such as a guest's virgl device, else llvmpipe),
 * one glFinish per frame, for a set time. Each frame costs the renderer a
 * lot and the caller little, so even a TCG guest keeps the host's renderer
 * busy. Prints "key: value" lines, including its own frame rate.
 *
 *   gpuhog [--seconds S] [--size WxH] [--iterations N]
 */
#define _GNU_SOURCE
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef EGL_PLATFORM_SURFACELESS_MESA
#define EGL_PLATFORM_SURFACELESS_MESA 0x31DD
#endif

#define MAX_FRAMES 200000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int skip(const char *why)
{
	/* automake's convention, as the harness reads it: exit 77 and say why. */
	printf("skip: %s\n", why);
	return 77;
}

static int fail(const char *what)
{
	fprintf(stderr, "gpuhog: %s\n", what);
	return 1;
}

static GLuint shader(GLenum type, const char *src, char *log, size_t loglen)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		glGetShaderInfoLog(s, (GLsizei)loglen, NULL, log);
		glDeleteShader(s);
		return 0;
	}
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long parse_num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

/* The fragment shader's loop of iters steps on a full-screen quad: the program, in use, or 0 (said). */
static GLuint build_program(long iters, long w, long h, GLint *tloc)
{
	static const char vs[] = "attribute vec2 pos; varying vec2 p;\n"
				 "void main() { p = pos; gl_Position = vec4(pos, 0.0, 1.0); }\n";
	static const GLfloat quad[] = { -1, -1, 1, -1, -1, 1, 1, 1 };
	char fs[1024], log[1024] = "";
	GLuint prog, v, f;
	GLint ok = 0;

	snprintf(fs, sizeof(fs),
		 "precision highp float; varying vec2 p; uniform float t;\n"
		 "void main() {\n"
		 "  vec2 z = p; float a = 0.0;\n"
		 "  for (int i = 0; i < %ld; i++) {\n"
		 "    z = sin(z.yx * 1.7 + vec2(t, -t) + p);\n"
		 "    a += z.x * z.y;\n"
		 "  }\n"
		 "  gl_FragColor = vec4(fract(a), fract(a * 0.5), fract(a * 0.25), 1.0);\n"
		 "}\n",
		 iters);
	v = shader(GL_VERTEX_SHADER, vs, log, sizeof(log));
	f = v ? shader(GL_FRAGMENT_SHADER, fs, log, sizeof(log)) : 0;
	if (!f) {
		fprintf(stderr, "gpuhog: shader: %s\n", log);
		return 0;
	}
	prog = glCreateProgram();
	glAttachShader(prog, v);
	glAttachShader(prog, f);
	glBindAttribLocation(prog, 0, "pos");
	glLinkProgram(prog);
	glGetProgramiv(prog, GL_LINK_STATUS, &ok);
	if (!ok) {
		fail("the shader program does not link");
		return 0;
	}
	glUseProgram(prog);
	*tloc = glGetUniformLocation(prog, "t");
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, quad);
	glEnableVertexAttribArray(0);
	glViewport(0, 0, (GLsizei)w, (GLsizei)h);
	return prog;
}

/* Draw frames, each waited for, for seconds (at most MAX_FRAMES), and print their rate and times. 0, or the exit
 * code (said). */
static int draw(GLint tloc, long seconds)
{
	double *ft = malloc(MAX_FRAMES * sizeof(*ft)), start, end, last, sum = 0;
	long frames = 0;
	unsigned char px[4];

	if (!ft)
		return fail("out of memory");
	start = last = now_s();
	end = start + (double)seconds;
	while (frames < MAX_FRAMES) {
		double t;

		glUniform1f(tloc, (GLfloat)frames * 0.01f);
		glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
		glFinish();
		t = now_s();
		ft[frames++] = (t - last) * 1e3;
		sum += t - last;
		last = t;
		if (t >= end)
			break;
	}
	glReadPixels(0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
	if (glGetError() != GL_NO_ERROR) {
		free(ft);
		return fail("GL reported an error");
	}
	qsort(ft, (size_t)frames, sizeof(*ft), cmp_double);
	printf("frames: %ld\n", frames);
	printf("seconds: %.3f\n", sum);
	printf("fps: %.3f\n", (double)frames / sum);
	printf("frame_time_p50_ms: %.3f\n", ft[frames / 2]);
	printf("frame_time_p99_ms: %.3f\n", ft[(size_t)((double)(frames - 1) * 0.99)]);
	printf("frame_time_max_ms: %.3f\n", ft[frames - 1]);
	printf("pixel: %02x%02x%02x\n", px[0], px[1], px[2]);
	printf("done: 1\n");
	free(ft);
	return 0;
}

int main(int argc, char **argv)
{
	long seconds = 20, w = 640, h = 480, iters = 48;
	const EGLint cfg_attr[] = { EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT,
				    EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_NONE };
	const EGLint ctx_attr[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	EGLDisplay dpy;
	EGLConfig cfg;
	EGLint ncfg = 0, major, minor;
	EGLSurface surf;
	EGLContext ctx;
	GLint tloc;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			if ((seconds = parse_num(argv[++i], 1, 3600)) < 0)
				return fail("--seconds takes 1 to 3600");
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			if ((iters = parse_num(argv[++i], 1, 4096)) < 0)
				return fail("--iterations takes 1 to 4096");
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (sscanf(argv[++i], "%ldx%ld", &w, &h) != 2 || w < 16 || h < 16 || w > 8192 || h > 8192)
				return fail("--size takes WxH, 16 to 8192 each");
		} else {
			fprintf(stderr, "usage: gpuhog [--seconds S] [--size WxH] [--iterations N]\n");
			return 2;
		}
	}
	dpy = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor))
		return skip("no EGL surfaceless display (Mesa's EGL_MESA_platform_surfaceless)");
	if (!eglBindAPI(EGL_OPENGL_ES_API) || !eglChooseConfig(dpy, cfg_attr, &cfg, 1, &ncfg) || ncfg < 1)
		return skip("no EGL config for GLES2 pbuffers");
	{
		const EGLint pb[] = { EGL_WIDTH, (EGLint)w, EGL_HEIGHT, (EGLint)h, EGL_NONE };

		surf = eglCreatePbufferSurface(dpy, cfg, pb);
	}
	ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (surf == EGL_NO_SURFACE || ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, surf, surf, ctx))
		return fail("cannot make a GLES2 context current on a pbuffer");
	if (!build_program(iters, w, h, &tloc))
		return 1;
	printf("gpuhog-format: 1\n");
	printf("renderer: %s\n", (const char *)glGetString(GL_RENDERER));
	printf("size: %ldx%ld\n", w, h);
	printf("iterations: %ld\n", iters);
	fflush(stdout);
	rc = draw(tloc, seconds);
	if (rc)
		return rc;
	eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(dpy, ctx);
	eglDestroySurface(dpy, surf);
	eglTerminate(dpy);
	return 0;
}
