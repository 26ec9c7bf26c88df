#!/usr/bin/env python3
"""Renders phasegate's HTML go-live report in headless Chromium and checks
what an approver and a security reviewer rely on: the verdict is on the first
screen (the verdict box's colour fills part of a 1280x800 screenshot, and the
verdict heading is the body's first heading), no script runs (outside text
that tries to add one stays text, and a script planted into the page is
stopped by the page's Content-Security-Policy), and the page fetches nothing.

Usage: check_html.py  (PG_BINARY, PG_SOURCE_DIR from ctest). Exit 77 when
Chromium is missing."""
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(args, tmp):
    profile = tempfile.mkdtemp(dir=tmp)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
           "--hide-scrollbars", "--window-size=1280,800"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit("chromium failed: %s" % p.stderr[-2000:])
    return p.stdout


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG: (width, height, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.headings, self.title, self._in = [], [], "", None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "title"):
            self._in = tag
            if tag != "title":
                self.headings.append([tag, ""])

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, d):
        if self._in == "title":
            self.title += d
        elif self._in:
            self.headings[-1][1] += d


def parse(text):
    d = Dom()
    d.feed(text)
    return d


def main():
    if not CHROMIUM:
        print("skipped: chromium is not installed (Debian package chromium)")
        return 77
    binary = os.environ["PG_BINARY"]
    tmp = tempfile.mkdtemp(prefix="pg-html-")
    try:
        page = os.path.join(tmp, "report.html")
        md = os.path.join(tmp, "report.md")
        p = subprocess.run([binary, "run", os.path.join(HERE, "suite.yaml"), "--quiet",
                            "--html", page, "--markdown", md], capture_output=True, text=True)
        assert p.returncode == 1, "expected exit 1 (gate failed), got %d: %s" % (p.returncode, p.stderr)
        src = open(page, encoding="utf-8").read()
        assert "<script" not in src.lower(), "the page holds a <script> element"
        assert "Content-Security-Policy" in src and "script-src 'none'" in src, "no CSP forbidding scripts"
        for attr in (' src="http', " href=", "url(", "@import"):
            assert attr not in src, "the page refers to an outside asset (%s)" % attr

        dom = parse(chromium(["--dump-dom", "file://" + page], tmp))
        tags = [t for t, _ in dom.tags]
        assert "script" not in tags and "img" not in tags and "b" not in tags and "i" not in tags, \
            "outside text became markup: %s" % sorted(set(tags))
        assert "PWNED" not in dom.title and dom.title.startswith("Go-live verdict: NO-GO"), dom.title
        assert dom.headings and dom.headings[0] == ["h1", "Go-live verdict: NO-GO"], dom.headings[:2]
        # the same order as the approver reads it
        order = [t for tag, t in dom.headings if tag == "h2"]
        want = ["Failures", "Open attestations", "Not run", "Phases", "Checklist", "Run", "Sign-off"]
        assert order == want, "sections %s, want %s" % (order, want)
        # the Markdown report says the same things: every check id and the blocking gate
        mdtext = open(md, encoding="utf-8").read()
        for word in ("checkpoint-s1", "hostile", "Blocked by the first gate", "Pre-flight"):
            assert word in mdtext and word in src, word

        # a script planted in the page does not run: the CSP stops it
        planted = os.path.join(tmp, "planted.html")
        marker = "<script>document.body.setAttribute('data-ran','yes')</script>"
        open(planted, "w", encoding="utf-8").write(src.replace("</body>", marker + "</body>"))
        ran = [a for t, a in parse(chromium(["--dump-dom", "file://" + planted], tmp)).tags
               if t == "body" and a.get("data-ran") == "yes"]
        assert not ran, "a planted script ran despite the CSP"
        # control: without the CSP the same script does run, so the check above can fail
        nocsp = os.path.join(tmp, "nocsp.html")
        stripped = "\n".join(l for l in src.replace("</body>", marker + "</body>").split("\n")
                             if "Content-Security-Policy" not in l)
        open(nocsp, "w", encoding="utf-8").write(stripped)
        ran = [a for t, a in parse(chromium(["--dump-dom", "file://" + nocsp], tmp)).tags
               if t == "body" and a.get("data-ran") == "yes"]
        assert ran, "control failed: scripts do not run even without the CSP"

        # the verdict box is on the first screen
        shot = os.path.join(tmp, "shot.png")
        chromium(["--screenshot=" + shot, "file://" + page], tmp)
        w, h, rows = png_pixels(shot)
        nogo_bg = (0xfd, 0xec, 0xea)
        hits = [y for y in range(h) for x in range(0, w, 8)
                if max(abs(a - b) for a, b in zip(rows[y][x], nogo_bg)) <= 3]
        assert len(hits) > 500, "the NO-GO verdict box is not on the first screen (%d pixels)" % len(hits)
        assert min(hits) < h // 3, "the verdict box starts below the top third (y=%d)" % min(hits)
        print("ok: verdict on the first screen (%d sampled pixels from y=%d), no script ran, "
              "sections in order" % (len(hits), min(hits)))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
