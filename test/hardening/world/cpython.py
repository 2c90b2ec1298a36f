"""cpython.py: CPython's own regression tests, bare and under mprof.

    /usr/bin/python3 cpython.py <build dir>

Runs each suite of Debian's libpython3.11-testsuite named below as
`/usr/bin/python3 -m test <suite> -v` twice, bare and with
LD_PRELOAD=<build>/libmprof.so, and compares the verdict of every test
(and of every class or module fixture that reports one): each must be
under mprof what it is bare.  A test that fails bare on this machine may
do anything under mprof; a test skipped bare must be skipped under mprof;
nothing else may change.  When a test that passed bare does not pass under
mprof, the test is run bare twice more on its own: if it fails there too
it is flaky on this machine and excused, with a note; otherwise it is a
failure of the run.

Nothing may hang.  regrtest's own --timeout is per test file and ends the
whole file, so this script keeps the clock itself: a test that makes no
progress for CPYTHON_TEST_TIMEOUT seconds (default 30; the slowest test
takes 3 s bare) is declared hung, every process of that run is listed and
killed, and the suite runs again with the tests that have no verdict yet.
A suite whose process dies in the middle goes on the same way, without
the test it died in.  Verdicts come from regrtest's -v lines; --junit-xml is passed too,
because it makes regrtest buffer each test's own prints, which keeps
them out of those lines (the XML misses subtest and fixture failures, so
it is not read).

Two runs at a time (the machine has 2 cores).  Work directories, logs
(log.<attempt>) and the profiles stay in
<build>/test/hardening/world-work/cpython/<suite>.<bare|mprof>/.  Every
profile the mprof runs leave must read back with `mprof top`.

    CPYTHON_SUITES         suites to run (default below)
    CPYTHON_TEST_TIMEOUT   seconds without progress that make a test hung
"""
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time

PYTHON = "/usr/bin/python3"  # Debian's, which the testsuite package belongs to
SUITES = os.environ.get("CPYTHON_SUITES",
                        "test_posix test_subprocess test_threading test_threadsignals").split()
TEST_TIMEOUT = float(os.environ.get("CPYTHON_TEST_TIMEOUT", "30"))
# A suite that keeps making progress but never ends (a loop of tests that
# each take just under TEST_TIMEOUT) still ends here.
SUITE_TIMEOUT = 900
MAX_ATTEMPTS = 6  # each attempt after the first leaves out one more test
CONFIRM_RUNS = 2  # bare reruns of a test that passed bare and not under mprof
MAX_LINES = 30    # differences printed per suite
# The settings of world.sh: every profile on and a low heap rate, so
# sampling, unwinding, lock profiling and dumps happen often.
MPROF_SETTINGS = {"MPROF_MEM_RATE": "4096", "MPROF_BLOCK_RATE": "10000",
                  "MPROF_MUTEX_FRACTION": "1", "MPROF_DUMP_INTERVAL": "1"}
# Every process of a run carries this variable (children inherit it, even
# those that leave the process group), so a hung run can be found and
# ended whole, and nothing else is touched.
MARK = "WORLD_CPYTHON_RUN"

# regrtest -v (unittest's TextTestResult at verbosity 2) writes, per test,
#   test_x (test.test_mod.Class.test_x) ... ok
# or, for a test with a docstring, the docstring's first line on the next
# line before " ... ok".  A fixture that fails or skips reports as
#   tearDownModule (test.test_mod) ... ERROR
# and a failed subtest as an indented line of its own.  Output that a
# child process writes straight to the descriptor can come between " ... "
# and the verdict, so a verdict is also looked for on the lines after.
START = re.compile(r"^(\S+) \(([A-Za-z_]\w*(?:\.\w+)+)\)(?: \.\.\. (.*))?$")
SUBTEST = re.compile(r"^  \S+ \([\w.]+\) .*\.\.\. (FAIL|ERROR)$")
VERDICT = re.compile(r"(?:^|\.\.\. )(ok|FAIL|ERROR|skipped .*|expected failure|unexpected success)$")
PASSED = ("ok", "expected failure")

out_lock = threading.Lock()


def say(msg):
    with out_lock:
        print("world: cpython: " + msg, flush=True)


def kind(verdict):
    """The part of a verdict that is compared: a skip's reason is not."""
    return "skipped" if verdict.startswith("skipped") else verdict


class Parse:
    """regrtest -v output, line by line: the verdict of each test, in order."""

    def __init__(self):
        self.verdict = {}
        self.order = []
        self.pending = None  # started, no verdict yet
        self.sub = None      # worst failed subtest of the pending test
        self.result = None   # regrtest's "Tests result: ..."
        self.progress = 0    # tests started or decided

    def line(self, text):
        m = START.match(text)
        if m:
            self.close(None)
            name, tid, rest = m.groups()
            key = tid if tid.endswith("." + name) else "%s (%s)" % (name, tid)
            self.pending, self.sub = key, None
            if key not in self.verdict:
                self.order.append(key)
            self.verdict[key] = None
            self.progress += 1
            if rest is not None:
                self.decide(rest)
            return
        m = SUBTEST.match(text)
        if m and self.pending:
            self.sub = "ERROR" if "ERROR" in (self.sub, m.group(1)) else "FAIL"
            return
        if text.startswith("Tests result: "):
            self.result = text[len("Tests result: "):].strip()
        elif self.pending:
            self.decide(text)

    def decide(self, text):
        m = VERDICT.search(text)
        if m:
            self.verdict[self.pending] = m.group(1)
            self.pending = None
            self.progress += 1

    def close(self, how):
        """The pending test ends without a verdict line: a test whose
        subtests failed prints none; otherwise the run ended in it."""
        if self.pending:
            self.verdict[self.pending] = self.sub or how or "no verdict"
            self.pending = None


def marked(token):
    """Processes of one run: pid -> a line describing it."""
    found = {}
    want = ("%s=%s" % (MARK, token)).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if want not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = " ".join(f.read().replace(b"\0", b" ").decode(errors="replace").split())
            with open("/proc/%s/wchan" % pid) as f:
                wchan = f.read().strip()
            fields = stat[stat.rindex(")") + 2:].split()
            found[int(pid)] = "pid %s state %s threads %s wchan %s: %.150s" % (
                pid, fields[0], fields[17], wchan or "-", cmd)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or a zombie with no environ
    return found


def kill_marked(token):
    for _ in range(5):  # a dying parent's children may appear once
        procs = marked(token)
        if not procs:
            return
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)


class Job:
    """One suite, bare or under mprof: attempts until it runs to its end."""

    def __init__(self, build, work, suite, mode):
        self.suite, self.mode = suite, mode
        self.dir = os.path.join(work, "%s.%s" % (suite, mode))
        self.lib = os.path.join(build, "libmprof.so")
        self.verdict = {}      # test -> verdict
        self.order = []
        self.culprit = {}      # test -> the log of the run it ended (hung, died)
        self.stuck = []        # the processes of the last hung run
        self.stuck_of = {}     # hung test -> its run's processes
        self.seconds = 0.0     # the suite's runs, bare reruns of single tests not counted
        self.attempts = 0
        self.killed = False
        self.result = None     # "Tests result:" of the last attempt
        self.end = None        # how the last attempt's process ended
        self.left = []         # processes left behind after a clean end
        self.logs = []         # of every attempt, in order
        os.makedirs(os.path.join(self.dir, "prof"), exist_ok=True)

    def env(self, token):
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("MPROF_")}
        env[MARK] = token
        if self.mode == "mprof":
            env["LD_PRELOAD"] = self.lib
            env["MPROF_OUT"] = os.path.join(self.dir, "prof", "p")
            env.update(MPROF_SETTINGS)
        return env

    def attempt(self, extra_args, tag):
        """One run of regrtest; returns its Parse, and how it ended."""
        token = "%s.%s.%s.%d" % (self.suite, self.mode, tag, os.getpid())
        log_path = os.path.join(self.dir, "log.%s" % tag)
        argv = [PYTHON, "-m", "test", self.suite, "-v",
                "--junit-xml", os.path.join(self.dir, "junit.%s.xml" % tag),
                "--tempdir", os.path.join(self.dir, "tmp")] + extra_args
        parse = Parse()
        start = time.monotonic()
        with open(log_path, "wb") as log:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env=self.env(token),
                                 cwd=self.dir, start_new_session=True)
            os.set_blocking(p.stdout.fileno(), False)
            sel = selectors.DefaultSelector()
            sel.register(p.stdout, selectors.EVENT_READ)
            buf, hung = b"", None
            last, seen = time.monotonic(), 0
            while True:
                eof = False
                for _ in sel.select(timeout=1.0):
                    chunk = p.stdout.read()
                    if not chunk:
                        eof = True
                    else:
                        log.write(chunk)
                        buf += chunk
                        *lines, buf = buf.split(b"\n")
                        for l in lines:
                            parse.line(l.decode("utf-8", "replace"))
                # A test that started shows " ... " before it ends.
                started = parse.progress + buf.count(b" ... ")
                if started != seen:
                    seen, last = started, time.monotonic()
                now = time.monotonic()
                if eof:
                    break
                if now - last > TEST_TIMEOUT or now - start > SUITE_TIMEOUT:
                    hung = now - last
                    break
            if buf:
                parse.line(buf.decode("utf-8", "replace"))
            if hung is not None:
                procs = marked(token)
                log.write(("\n[cpython.py] no progress for %.0f s; its processes:\n  %s\n" % (
                    hung, "\n  ".join(procs.values()) or "(none found)")).encode())
                # The test's own processes, without regrtest's, which only waits.
                self.stuck = [v for pid, v in sorted(procs.items()) if pid != p.pid]
                os.killpg(p.pid, signal.SIGKILL)
                kill_marked(token)
                p.wait()
                self.killed = True
                how = "hung"
            else:
                rc = p.wait()
                how = ("exit %d" % rc) if rc >= 0 else ("killed by %s" % signal.Signals(-rc).name)
                left = marked(token)
                if left:
                    self.left = sorted(left.values())
                    log.write(("\n[cpython.py] left behind:\n  %s\n" % "\n  ".join(self.left)).encode())
                    kill_marked(token)
            sel.close()
            p.stdout.close()
        return parse, how, log_path, time.monotonic() - start

    def run(self):
        ignored = []
        while True:
            self.attempts += 1
            extra = []
            if ignored:
                # Again without the culprits, and without the tests that
                # already have a verdict.  A fixture has no test id to leave
                # out by, so it stays in.
                done = ignored + [t for t, v in self.verdict.items() if v and t not in ignored]
                path = os.path.join(self.dir, "ignore.%d" % self.attempts)
                with open(path, "w") as f:
                    f.write("".join(t + "\n" for t in done if "(" not in t))
                extra = ["--ignorefile", path]
            parse, how, log_path, seconds = self.attempt(extra, str(self.attempts))
            self.seconds += seconds
            pending = parse.pending
            parse.close(how)
            for t in parse.order:
                if t not in self.verdict:
                    self.order.append(t)
                self.verdict[t] = parse.verdict[t]
            self.result, self.end, self.log = parse.result, how, log_path
            self.logs.append(log_path)
            if parse.result is not None:  # regrtest got to its summary
                if how == "hung":
                    self.end = "hung after its last test"
                return
            if self.attempts >= MAX_ATTEMPTS:
                return
            # The run ended in the middle: in the test that was running, or
            # (nothing pending) after the last one that reported.
            culprit = pending or (parse.order[-1] if parse.order else None)
            if culprit is None or culprit in ignored:
                return
            if pending:
                self.verdict[culprit] = how if how == "hung" else "died (%s)" % how
            else:
                self.verdict[culprit] = "%s, then the run died (%s)" % (self.verdict[culprit], how)
            self.culprit[culprit] = log_path
            if how == "hung":
                self.stuck_of[culprit] = self.stuck
            ignored.append(culprit)

    def confirm(self, tests):
        """Run `tests` bare on their own; their verdicts."""
        path = os.path.join(self.dir, "match.confirm")
        with open(path, "w") as f:
            f.write("".join(t + "\n" for t in tests))
        verdicts = {}
        for i in range(CONFIRM_RUNS):
            parse, how, _, _ = self.attempt(["--matchfile", path], "confirm%d" % (i + 1))
            parse.close(how)
            for t in tests:
                verdicts.setdefault(t, []).append(parse.verdict.get(t, "not run (%s)" % how))
        return verdicts


def exception_at(lines, i):
    """The exception a traceback that starts at or after lines[i] ends in:
    its first line and what follows it, up to a blank line."""
    msg = []
    for l in lines[i:]:
        if msg and (not l.strip() or l.startswith(("=" * 20, "-" * 20))):
            break
        if msg or (l.strip() and not l.startswith((" ", "Traceback", "-" * 20))
                   and re.match(r"^[\w.]+(: |$)", l)):
            msg.append(l.strip())
    return " | ".join(msg)[:240]


def why(log_path, test, died=False):
    """From regrtest's report of a failed test: the exception it raised.
    For a run that died: the last exception in its log."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return ""
    if died:
        tb = [i for i, l in enumerate(lines) if l.startswith("Traceback")]
        return exception_at(lines, tb[-1]) if tb else ""
    m = re.match(r"^(.*) \((.*)\)$", test)
    name, tid = (m.group(1), m.group(2)) if m else (test.rsplit(".", 1)[-1], test)
    heads = ("FAIL: %s (%s)" % (name, tid), "ERROR: %s (%s)" % (name, tid))
    for i, l in enumerate(lines):
        if l in heads:
            return exception_at(lines, i + 1)
    return ""


def allowed(bare, mprof):
    if kind(bare) == kind(mprof):
        return True
    # A test that fails bare on this machine may do anything under mprof.
    return bare not in PASSED and kind(bare) != "skipped"


def readback(build, job):
    """Every profile must read back with `mprof top`: failures."""
    prof = os.path.join(job.dir, "prof")
    names = sorted(os.listdir(prof))
    bad = []
    pids = set()
    for n in names:
        path = os.path.join(prof, n)
        if n.endswith(".tmp"):
            if not job.killed:  # a killed run may die while it writes
                bad.append("temporary profile file left: " + path)
            continue
        pids.add(n.split(".")[1])
        r = subprocess.run([os.path.join(build, "mprof"), "top", "-n", "1", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            bad.append("mprof top cannot read %s: %s" % (path, r.stderr.strip()[:200]))
    files = sum(1 for n in names if n.endswith(".pb.gz"))
    return files, len(pids), bad


def main():
    build = os.path.abspath(sys.argv[1])
    work = os.path.join(build, "test", "hardening", "world-work", "cpython")
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(work)
    if not os.path.isdir("/usr/lib/python3.11/test/libregrtest"):
        say("FAIL: Debian's libpython3.11-testsuite is not installed (make deps installs it)")
        return 1
    t0 = time.monotonic()
    jobs = {(s, m): Job(build, work, s, m) for s in SUITES for m in ("mprof", "bare")}
    # Longest first, two at a time: test_subprocess under mprof is the
    # longest run, and the hangs are in test_threading.
    queue = sorted(jobs.values(), key=lambda j: (j.suite != "test_subprocess",
                                                 j.suite != "test_threading", j.mode != "mprof"))
    qlock = threading.Lock()

    def worker():
        while True:
            with qlock:
                if not queue:
                    return
                job = queue.pop(0)
            job.run()
            say("%s %s: %d tests, %.1f s, %d run%s, ended %s (%s)" % (
                job.suite, job.mode, len(job.order), job.seconds, job.attempts,
                "" if job.attempts == 1 else "s", job.end, job.result or "no result line"))

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    differ = 0
    clean = 0
    for suite in SUITES:
        bare, mprof = jobs[(suite, "bare")], jobs[(suite, "mprof")]
        tests = bare.order + [t for t in mprof.order if t not in bare.verdict]
        # A fixture reports only when it fails or skips: silence is "ok".
        get = lambda job, t: job.verdict.get(t, "ok" if "(" in t else "not run")
        wrong = [t for t in tests if not allowed(get(bare, t), get(mprof, t))]
        # Evidence that such a test also fails bare here, on its own.
        excused = {}
        retry = [t for t in wrong if get(bare, t) in PASSED and "(" not in t]
        if retry:
            for t, vs in bare.confirm(retry).items():
                # Only a verdict excuses: a rerun that did not get to the
                # test, or skipped it, says nothing.
                if any(v not in PASSED and kind(v) != "skipped" and not v.startswith("not run")
                       for v in vs):
                    excused[t] = vs
        problems = []
        for t in wrong:
            b, m = get(bare, t), get(mprof, t)
            if t in excused:
                say("%s: note: %s: bare %s, mprof %s; excused: fails bare on its own (%s)"
                    % (suite, t, b, m, ", ".join(excused[t])))
                continue
            if m == "hung":
                detail = "no progress for %.0f s, killed; its processes: %s; see %s" % (
                    TEST_TIMEOUT, " / ".join(mprof.stuck_of.get(t, [])) or "none found",
                    mprof.culprit[t])
            elif t in mprof.culprit:
                detail = "%s; see %s" % (why(mprof.culprit[t], t, died=True) or
                                         "no output after it", mprof.culprit[t])
            else:  # the report is in the log of the run that finished the test
                detail = next((d for d in map(lambda l: why(l, t), reversed(mprof.logs)) if d), "")
            problems.append("%s: bare %s, mprof %s%s" % (t, b, m, ": " + detail if detail else ""))
        # The run as a whole: same end, same regrtest verdict, nothing left
        # behind.  Only asked when every test agrees, since a failed test
        # changes regrtest's verdict by itself.
        if not problems and not mprof.culprit and not bare.culprit:
            if (bare.result, bare.end) != (mprof.result, mprof.end):
                problems.append("the run: bare ended %s (%s), mprof ended %s (%s); see %s" % (
                    bare.end, bare.result, mprof.end, mprof.result, mprof.log))
        if mprof.left and not bare.left:
            problems.append("the mprof run left processes behind: " + "; ".join(mprof.left))
        files, procs, bad = readback(build, mprof)
        problems += bad
        say("%s: %d tests, %d differences; bare %.1f s, mprof %.1f s; %d profiles from %d processes read back"
            % (suite, len(tests), len(problems), bare.seconds, mprof.seconds, files, procs))
        for p in problems[:MAX_LINES]:
            say("%s: FAIL: %s" % (suite, p))
        if len(problems) > MAX_LINES:  # a suite that did not start, say
            say("%s: FAIL: ... and %d more; see %s" % (suite, len(problems) - MAX_LINES, mprof.log))
        differ += len(problems)
        clean += not problems
    say("%d of %d suites unchanged under mprof, %d differences, %.0f s"
        % (clean, len(SUITES), differ, time.monotonic() - t0))
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
