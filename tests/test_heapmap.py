"""mdriver --heap-map: the HTML page of one trace's heap over time
(docs/driver.md, "Heap pictures"), its data checked here, and the page
rendered by headless Chromium (what it draws: blocks in the DOM, a
screenshot that is not blank).

build/broken/mdriver-walk is the base allocator with mm_heap_walk
(tests/broken/walk.c); mdriver-ok has no walk; mdriver-badwalk reports
nonsense blocks, mdriver-crashwalk's crashes; mdriver-segv and mdriver-overlap fail on line 8.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib

import kit
from test_driver import BROKEN_TRACE, broken, mdriver

MDRIVER = os.path.join(kit.MALLOC, "mdriver")

# Ends with ids 0 (moved by r), 2 and 3 live, 1 and 0's first block freed.
TRACE = """\
20000
4
6
1
a 0 64
a 1 32
a 2 100
f 1
a 3 48
r 0 200
"""
PAYLOAD_RGB = (0x2b, 0x6c, 0xb0)  # COLORS.payload in driver_heapmap.c


def heap_map(binary, trace_text, *args):
    """Runs binary --heap-map on trace_text; returns (proc, data, html path)."""
    out = tempfile.mkdtemp(prefix="mmtest-map-")
    path = os.path.join(out, "map.html")
    proc = mdriver(binary, "-n", "--heap-map", path, *args, trace_text=trace_text)
    kit.expect(os.path.exists(path), "no heap map written", proc)
    with open(path) as f:
        html = f.read()
    m = re.search(r"const D = (\{.*?\});\n</script>", html, re.S)
    kit.expect(m is not None, "no data (const D) in the page", proc)
    kit.expect("http" not in html.replace("http://www.w3.org/2000/svg", ""),
               "the page must not load anything from the network")
    return proc, json.loads(m.group(1)), path


def kinds(frame):
    """{kind number: count} of the blocks mm_heap_walk reported."""
    out = {}
    for w in frame["w"]:
        out[w[2]] = out.get(w[2], 0) + 1
    return out


def test_heap_map_without_the_hook_shows_the_driver_view():
    proc, d, _ = heap_map(broken("ok"), TRACE)
    kit.expect(proc.returncode == 0, "the trace is valid", proc)
    kit.expect(not d["hook"] and d["error"] is None, "no hook, no error")
    ops = [f["op"] for f in d["frames"]]
    kit.expect(ops == list(range(-1, 6)), "mm_init then one frame per op: %r" % ops)
    last = d["frames"][-1]
    kit.expect(sorted(p[2] for p in last["p"]) == [0, 2, 3] and last["w"] == [],
               "the live payloads of ids 0, 2, 3 only: %r" % last)
    kit.expect(last["live"] == 100 + 48 + 200 and last["text"] == "r 0 200",
               "live bytes and the op's text: %r" % last)
    kit.expect(d["peak"]["live"] == 348 and d["peak"]["line"] == 10,
               "the peak: %r" % d["peak"])


def test_heap_map_with_the_hook_shows_free_blocks_and_overhead():
    proc, d, _ = heap_map(broken("walk"), TRACE)
    kit.expect(proc.returncode == 0 and d["hook"], "valid, with the hook", proc)
    last = d["frames"][-1]
    kit.expect(kinds(last) == {0: 3, 1: 2, 2: 1},
               "3 allocated, 2 free, the prologue: %r" % last["w"])
    free = [w for w in last["w"] if w[2] == 1]
    kit.expect(all(w[3] == 0 for w in free), "free blocks on list 0: %r" % free)
    ends = [w[0] + w[1] for w in last["w"]]
    kit.expect(ends[-1] == last["heap"], "blocks tile the heap: %r" % last)


def test_heap_map_keeps_the_frames_of_a_crashed_replay():
    proc, d, _ = heap_map(broken("segv"), BROKEN_TRACE)
    kit.expect(proc.returncode == 1, "the trace fails", proc)
    err = d["error"]
    kit.expect(err and err["kind"] == "crashed" and err["line"] == 8
               and "SIGSEGV" in err["details"], "the failing op: %r" % err)
    kit.expect([f["op"] for f in d["frames"]] == [-1, 0, 1],
               "the frames up to the crash reach the parent: %r" % d["frames"])


def test_heap_map_names_a_crash_in_the_walk():
    proc, d, _ = heap_map(broken("crashwalk"), TRACE)
    out = kit.output(proc)
    kit.expect(proc.returncode == 1 and 'line 6, op "a 1 32"]: crashed' in out
               and "in mm_heap_walk" in out, "the walk's crash is named", proc)
    kit.expect([f["op"] for f in d["frames"]] == [-1, 0],
               "the frames before the crash: %r" % d["frames"])


def test_heap_map_marks_the_op_the_engine_failed():
    proc, d, _ = heap_map(broken("overlap"), BROKEN_TRACE)
    kit.expect(proc.returncode == 1 and d["error"]["kind"] == "overlap",
               "the trace fails with overlap", proc)
    last = d["frames"][-1]
    kit.expect(last["failed"] == 1 and last["op"] == 2 and last["line"] == 8,
               "a last frame at the failing op: %r" % last)


def test_heap_map_ignores_a_walk_that_reports_nonsense():
    proc, d, _ = heap_map(broken("badwalk"), TRACE)
    kit.expect(proc.returncode == 0, "the trace is still valid", proc)
    for f in d["frames"]:
        kit.expect(f["w_seen"] == 100005, "every call counted: %r" % f["w_seen"])
        kit.expect(len(f["w"]) <= 2048, "at most 2048 blocks kept")
        kit.expect(all(0 <= w[0] < f["heap"] and w[0] + w[1] <= f["heap"]
                       and w[2] in (0, 1, 2) and w[3] >= -1 for w in f["w"]),
                   "only blocks inside the heap: %r" % f["w"][:5])
        kit.expect(all(w[3] in (-1, 3) for w in f["w"]),
                   "a free list over 2^20 or under -1 becomes -1")


def test_heap_map_of_a_long_trace_has_at_most_200_frames():
    ops = ["a %d 16" % i for i in range(600)] + ["f %d" % i for i in range(600)]
    text = "20000\n600\n1200\n1\n" + "\n".join(ops) + "\n"
    proc, d, _ = heap_map(broken("walk"), text)
    kit.expect(proc.returncode == 0, "valid", proc)
    kit.expect(d["stride"] == 6 and len(d["frames"]) == 201,
               "mm_init + one frame every 6 ops: %d" % len(d["frames"]))
    kit.expect(d["frames"][-1]["op"] == 1199 and len(d["points"]) <= 1000,
               "the last op has a frame; util points capped")
    kit.expect(d["peak"]["live"] == 600 * 16 and d["peak"]["line"] == 604,
               "the peak is at the last malloc: %r" % d["peak"])


def test_heap_map_of_a_giant_trace_on_the_sparse_heap():
    giant = os.path.join(kit.ROOT, "tests", "peer", "syn-giant-short.rep")
    proc, d, _ = heap_map(MDRIVER, None, "-f", giant)
    kit.expect(proc.returncode == 0, "valid", proc)
    kit.expect(len(d["frames"]) == d["nops"] + 1,
               "every frame kept, heaps past the -m limit included: %d of %d"
               % (len(d["frames"]), d["nops"] + 1))
    kit.expect(max(f["heap"] for f in d["frames"]) > 1 << 34,
               "a heap of more than 16 GiB is drawn")


def test_heap_map_usage_errors():
    proc = mdriver(MDRIVER, "-n", "--heap-map", "/nonexistent-dir/m.html",
                   "-f", "short1-bal.rep")
    kit.expect(proc.returncode == 2 and
               "ERROR [/nonexistent-dir/m.html]: cannot write the heap map"
               in kit.output(proc), "an unwritable file: exit 2", proc)
    proc = mdriver(MDRIVER, "-n", "--heap-map", "/dev/full", "-f", "short1-bal.rep")
    kit.expect(proc.returncode == 2 and "writing the heap map failed"
               in kit.output(proc), "a full disk: exit 2", proc)
    proc = mdriver(MDRIVER, "-n", "--heap-map", "/tmp/x.html", "-f",
                   "short1-bal.rep", "-f", "short2-bal.rep")
    kit.expect(proc.returncode == 2 and "exactly one -f" in kit.output(proc),
               "two traces: exit 2", proc)


def reference_has_hook():
    proc = kit.run(["nm", MDRIVER])
    return re.search(r"^\S+ T mm_heap_walk$", proc.stdout, re.M) is not None


def test_heap_map_of_the_reference_mm_c():
    if not reference_has_hook():
        raise kit.Skip("malloc/mm.c does not define mm_heap_walk (nm)")
    proc, d, _ = heap_map(MDRIVER, None, "-f", "random-uniform-short.rep")
    kit.expect(proc.returncode == 0 and d["hook"], "valid, with the hook", proc)
    for f in d["frames"][1:]:
        alloc = [w for w in f["w"] if w[2] == 0]
        for p in f["p"]:
            kit.expect(any(w[0] < p[0] and p[0] + p[1] <= w[0] + w[1]
                           for w in alloc),
                       "payload %r lies in no allocated block of frame %d"
                       % (p, f["op"]))
    kit.expect(any(kinds(f).get(1) for f in d["frames"]),
               "some frame shows a free block")


# ---- the page in a browser ----

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-breakpad", "--window-size=1100,1000"]


def run_in_group(cmd, timeout=120):
    """Runs cmd in a process group of its own and kills the whole group when
    it ends or times out (nothing it started is left behind). Returns
    (exit status, stdout + stderr as text)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out = b"(timed out after %d s)" % timeout
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    return p.returncode, out.decode(errors="replace")


def chromium(url, *args):
    """Runs headless Chromium on url with a fresh profile; returns what it
    printed (--dump-dom: the DOM)."""
    exe = shutil.which("chromium")
    kit.expect(exe is not None, "chromium is missing: tools/setup.sh --test "
               "installs it")
    profile = tempfile.mkdtemp(prefix="mmtest-chromium-")
    try:
        status, out = run_in_group([exe] + CHROMIUM_FLAGS + [
            "--user-data-dir=" + profile] + list(args) + [url])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    kit.expect(status == 0, "chromium failed (%d): %s" % (status, out[-2000:]))
    return out


def png_pixels(path):
    """The RGB(A) pixels of an 8-bit PNG as a list of tuples (zlib only)."""
    with open(path, "rb") as f:
        data = f.read()
    kit.expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, head = 8, b"", None
    while pos < len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, ctype = head[:4]
    kit.expect(depth == 8 and ctype in (2, 6), "PNG type %r" % (head,))
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], None
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        up = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = up[i], up[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return [tuple(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


def rects(dom, kind):
    return len(re.findall(r'<rect class="blk %s"' % kind, dom))


def test_heap_map_renders_in_chromium():
    _, d, path = heap_map(broken("walk"), TRACE)
    url = "file://" + path
    dom = chromium(url, "--dump-dom")
    counts = {k: rects(dom, k) for k in ("payload", "allocated", "free",
                                         "overhead", "gap")}
    kit.expect(counts == {"payload": 3, "allocated": 3, "free": 2,
                          "overhead": 1, "gap": 0},
               "the last frame's blocks in the DOM: %r" % counts)
    kit.expect("frame 7/7: after op 5 (line 10: r 0 200)" in dom,
               "the slider's label shows the last frame")
    png = os.path.join(os.path.dirname(path), "shot.png")
    chromium(url, "--screenshot=" + png)
    colors = set(png_pixels(png))
    kit.expect(len(colors) > 1, "the screenshot is blank")
    kit.expect(PAYLOAD_RGB in colors, "no payload colour on the screenshot")


def test_heap_map_without_the_hook_renders_gaps_in_chromium():
    _, d, path = heap_map(broken("ok"), TRACE)
    dom = chromium("file://" + path, "--dump-dom")
    # [dead 0, 1 | hdr] p2 [pad, hdr] p3 [hdr] p0 [pad]: 4 gaps, 3 payloads.
    kit.expect((rects(dom, "payload"), rects(dom, "gap"), rects(dom, "free"))
               == (3, 4, 0), "payloads and the gaps between them")
