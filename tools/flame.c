/*
 * flame.c: `mprof flame`: an interactive SVG flame graph in one file.
 *
 * The stack tree (stacks.c) is drawn root at the bottom, callees above
 * their callers, each frame as wide as its share of the total, siblings in
 * name order (as flamegraph.pl does). Every frame is a <g> with a <title>
 * (the browser's hover tooltip: name, value, share), a <rect> and a <text>
 * label cut to fit. A small embedded script shows the hovered frame at the
 * bottom and zooms on click; without script the picture still reads.
 *
 * Names come from an untrusted file: every character that is not valid in
 * XML 1.0 (control characters, broken UTF-8) becomes '?', and markup
 * characters are escaped, so the document is always well-formed.
 */
#include "reader.h"
#include "stacks.h"
#include "tool.h"
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WIDTH 1200.0
#define PAD 10.0
#define FRAME_H 16.0
#define TOP 56.0
#define BOTTOM 28.0
#define CHAR_W 6.6     /* 11px monospace */
#define MIN_WIDTH 0.1  /* narrower frames are not drawn */
#define EPS 0.011      /* positions are printed with 2 decimals */

/* ---- XML text ---- */

/* Length of the valid UTF-8 sequence at s encoding a character XML allows,
 * or 0. */
static size_t utf8_char(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0)
        return 0;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_of[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp == 0xfffe || cp == 0xffff)
        return 0;
    if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
        return 0;
    return n;
}

/* At most max_chars characters of s, escaped. */
static void xml_put(FILE *out, const char *s, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t chars = 0; *p && chars < max_chars; chars++) {
        size_t n = utf8_char(p);
        switch (n ? *p : 0) {
        case 0: fputc('?', out); p++; continue;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fwrite(p, 1, n, out);
        }
        p += n;
    }
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The label of a frame `w` px wide: the name, cut with "..", or nothing. */
static void put_label(FILE *out, const char *name, double w)
{
    double fit = (w - 6) / CHAR_W;
    if (fit < 3)
        return;
    size_t max = (size_t)fit, len = utf8_len(name);
    if (len <= max) {
        xml_put(out, name, len);
        return;
    }
    xml_put(out, name, max - 2);
    fputs("..", out);
}

/* ---- the picture ---- */

/* Warm colours, stable per name (flamegraph.pl's "hot" palette). */
static void colour(const char *name, int rgb[3])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    double a = (double)(h & 0xff) / 255, b = (double)(h >> 8 & 0xff) / 255,
           c = (double)(h >> 16 & 0xff) / 255;
    rgb[0] = 205 + (int)(50 * a);
    rgb[1] = (int)(230 * b);
    rgb[2] = (int)(55 * c);
}

typedef struct picture {
    const stacks *t;
    double *x;     /* left edge of each node, in value units */
    double scale;  /* px per value unit */
    double height;
    const char *unit;
} picture;

/* Children start at their parent's left edge and follow in order; parents
 * come before children in the array, so one pass places everything. */
static void layout(picture *pic)
{
    const stacks *t = pic->t;
    pic->x = xcalloc(t->len, sizeof *pic->x);
    for (size_t p = 0; p < t->len; p++) {
        double cx = pic->x[p];
        for (size_t c = t->n[p].child; c != STACKS_NONE; c = t->n[c].sibling) {
            pic->x[c] = cx;
            cx += (double)t->n[c].total;
        }
    }
    pic->scale = t->n[0].total > 0 ? (WIDTH - 2 * PAD) / (double)t->n[0].total : 0;
    pic->height = TOP + (double)(t->max_depth + 1) * FRAME_H + BOTTOM;
}

static void put_frame(FILE *out, const picture *pic, size_t i)
{
    const snode *n = &pic->t->n[i];
    double w = (double)n->total * pic->scale;
    double x = PAD + pic->x[i] * pic->scale;
    double y = TOP + (double)(pic->t->max_depth - n->depth) * FRAME_H;
    char v[UNITS_BUF];
    int rgb[3] = {190, 190, 190};
    if (i)
        colour(n->name, rgb);
    fputs("<g><title>", out);
    xml_put(out, n->name, SIZE_MAX);
    fprintf(out, " (%s, %.2f%%)</title>",
            units_format(v, sizeof v, n->total, pic->unit, false, false),
            100.0 * (double)n->total / (double)pic->t->n[0].total);
    fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                 "fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>",
            x, y, w, FRAME_H - 1, rgb[0], rgb[1], rgb[2]);
    fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_H - 4.5);
    put_label(out, n->name, w);
    fputs("</text></g>\n", out);
}

/* The zoom and hover script. No "]]>" may appear in it (CDATA). */
static const char script[] =
    "var frames, details, unzoomBtn, W, PAD, EPS, CHAR_W;\n"
    "function init(evt) {\n"
    "  var svg = document.documentElement;\n"
    "  W = +svg.getAttribute('width'); PAD = +svg.getAttribute('data-pad');\n"
    "  EPS = +svg.getAttribute('data-eps'); CHAR_W = +svg.getAttribute('data-charw');\n"
    "  frames = document.getElementById('frames');\n"
    "  details = document.getElementById('details').firstChild;\n"
    "  unzoomBtn = document.getElementById('unzoom');\n"
    "  var gs = frames.getElementsByTagName('g');\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], r = g.getElementsByTagName('rect')[0];\n"
    "    var t = g.getElementsByTagName('title')[0].textContent;\n"
    "    g.ox = +r.getAttribute('x'); g.ow = +r.getAttribute('width');\n"
    "    g.oy = +r.getAttribute('y'); g.fname = t.substring(0, t.lastIndexOf(' ('));\n"
    "  }\n"
    "  frames.addEventListener('click', function (e) { var g = frameOf(e.target); if (g) zoom(g); });\n"
    "  frames.addEventListener('mouseover', function (e) {\n"
    "    var g = frameOf(e.target);\n"
    "    if (g) details.nodeValue = g.getElementsByTagName('title')[0].textContent;\n"
    "  });\n"
    "  frames.addEventListener('mouseout', function () { details.nodeValue = ' '; });\n"
    "  unzoomBtn.addEventListener('click', unzoom);\n"
    "  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') unzoom(); });\n"
    "}\n"
    "function frameOf(n) {\n"
    "  while (n && n.parentNode !== frames) n = n.parentNode;\n"
    "  return n;\n"
    "}\n"
    "function fit(name, w) {\n"
    "  var n = Math.floor((w - 6) / CHAR_W);\n"
    "  if (n < 3) return '';\n"
    "  return name.length <= n ? name : name.substring(0, n - 2) + '..';\n"
    "}\n"
    "function place(g, x, w, cls) {\n"
    "  var r = g.getElementsByTagName('rect')[0], t = g.getElementsByTagName('text')[0];\n"
    "  r.setAttribute('x', x.toFixed(2)); r.setAttribute('width', w.toFixed(2));\n"
    "  t.setAttribute('x', (x + 3).toFixed(2)); t.textContent = fit(g.fname, w);\n"
    "  if (cls) g.setAttribute('class', cls); else g.removeAttribute('class');\n"
    "}\n"
    "function zoom(z) {\n"
    "  var gs = frames.getElementsByTagName('g'), scale = (W - 2 * PAD) / z.ow;\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i];\n"
    "    if (g.oy > z.oy && g.ox <= z.ox + EPS && g.ox + g.ow >= z.ox + z.ow - EPS)\n"
    "      place(g, PAD, W - 2 * PAD, 'parent');\n"
    "    else if (g.oy <= z.oy && g.ox >= z.ox - EPS && g.ox + g.ow <= z.ox + z.ow + EPS)\n"
    "      place(g, PAD + (g.ox - z.ox) * scale, g.ow * scale, '');\n"
    "    else\n"
    "      g.setAttribute('class', 'hide');\n"
    "  }\n"
    "  unzoomBtn.removeAttribute('class');\n"
    "}\n"
    "function unzoom() {\n"
    "  var gs = frames.getElementsByTagName('g');\n"
    "  for (var i = 0; i < gs.length; i++) place(gs[i], gs[i].ox, gs[i].ow, '');\n"
    "  unzoomBtn.setAttribute('class', 'hide');\n"
    "}\n";

static void put_header(FILE *out, const picture *pic, const char *title)
{
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "data-pad=\"%.0f\" data-eps=\"%.3f\" data-charw=\"%.1f\" "
            "onload=\"init(evt)\">\n",
            WIDTH, pic->height, WIDTH, pic->height, PAD, EPS, CHAR_W);
    fputs("<style type=\"text/css\">\n"
          "text { font-family: monospace; font-size: 11px; fill: #000; }\n"
          "#frames g:hover rect { stroke: #000; stroke-width: 0.7; cursor: pointer; }\n"
          "#title { font-size: 16px; }\n"
          "#unzoom { cursor: pointer; fill: #06c; }\n"
          ".hide { display: none; }\n"
          ".parent { opacity: 0.5; }\n"
          "</style>\n<script type=\"text/ecmascript\"><![CDATA[\n", out);
    fputs(script, out);
    fputs("]]></script>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>\n"
                 "<text id=\"title\" x=\"%.0f\" y=\"24\" text-anchor=\"middle\">",
            WIDTH / 2);
    xml_put(out, title, SIZE_MAX);
    fprintf(out, "</text>\n<text id=\"unzoom\" x=\"%.0f\" y=\"24\" class=\"hide\">"
                 "Reset zoom</text>\n"
                 "<text id=\"details\" x=\"%.0f\" y=\"%.0f\"> </text>\n",
            PAD, PAD, pic->height - 10);
}

static void put_svg(FILE *out, const stacks *t, const char *unit, const char *title)
{
    picture pic = {.t = t, .unit = unit};
    layout(&pic);
    put_header(out, &pic, title);
    fputs("<g id=\"frames\">\n", out);
    if (t->n[0].total > 0)
        for (size_t i = 0; i < t->len; i++)
            if ((double)t->n[i].total * pic.scale >= MIN_WIDTH)
                put_frame(out, &pic, i);
    fputs("</g>\n</svg>\n", out);
    free(pic.x);
}

/* ---- the command ---- */

static const tool_opt opts[] = {
    {"-o", true}, {"--output", true}, {"--sample-index", true}, {"--title", true},
    {NULL, false},
};

struct flame_args {
    const char *file, *out, *index, *title;
};

static int parse_args(int argc, char **argv, struct flame_args *fa)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const tool_opt *opt;
    const char *val;
    int k;
    memset(fa, 0, sizeof *fa);
    while ((k = tool_args_next(&a, "flame", opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return -1;
        if (k == ARG_OPERAND && fa->file) {
            tool_error("flame", "unexpected argument '%s'", val);
            return -1;
        }
        if (k == ARG_OPERAND)
            fa->file = val;
        else if (opt->name[1] == 'o' || !strcmp(opt->name, "--output"))
            fa->out = val;
        else if (!strcmp(opt->name, "--title"))
            fa->title = val;
        else
            fa->index = val;
    }
    if (!fa->file || !fa->out) {
        tool_error("flame", "expected a profile file and -o OUT.svg");
        return -1;
    }
    return 0;
}

static int close_checked(FILE *f)
{
    int bad = ferror(f);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

/*
 * Write the SVG to path ("-" = stdout). A new or regular OUT is written to
 * a fresh temporary beside it (mkstemp: never a file that was there, never
 * through a planted link) and renamed over it when whole. An OUT that
 * exists and is anything else, a device, a fifo or a symlink, is written
 * in place: a rename would replace the node itself (as root, /dev/null).
 */
static int write_svg(const char *path, const stacks *t, const char *unit,
                     const char *title)
{
    if (!strcmp(path, "-")) {
        put_svg(stdout, t, unit, title);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        put_svg(f, t, unit, title);
        return close_checked(f);
    }
    char *tmp = xasprintf("%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = NULL;
    int rc = -1;
    if (fd >= 0) {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) == 0)
            f = fdopen(fd, "w");
        if (!f)
            close(fd);
    }
    if (f) {
        put_svg(f, t, unit, title);
        rc = close_checked(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    }
    if (rc < 0 && fd >= 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return rc;
}

int cmd_flame(int argc, char **argv)
{
    struct flame_args fa;
    if (parse_args(argc, argv, &fa) < 0)
        return tool_usage("flame");
    reader r;
    if (reader_open(&r, "flame", fa.file) < 0)
        return EXIT_BAD_INPUT;
    if (fa.index && reader_select(&r, "flame", fa.index) < 0) {
        reader_close(&r);
        return EXIT_BAD_INPUT;
    }
    stacks t;
    stacks_build(&t, &r);
    char *title = fa.title ? xstrdup(fa.title)
                           : xasprintf("%s: %s", fa.file, r.type);
    int rc = 0;
    if (write_svg(fa.out, &t, r.unit, title) < 0) {
        tool_error("flame", "cannot write %s: %s", fa.out, strerror(errno));
        rc = EXIT_FAIL;
    } else if (t.skipped) {
        tool_error("flame", "%s: %zu samples with negative %s left out", fa.file,
                   t.skipped, r.type);
    }
    free(title);
    stacks_free(&t);
    reader_close(&r);
    return rc;
}
