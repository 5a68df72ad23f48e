#!/usr/bin/env python3
"""exit_codes.py - the exit code and message of every `eris` subcommand
when its output cannot be written or its input cannot be read (eris(1),
EXIT STATUS: 4 for an input or output file, with the real reason).

Table-driven: each subcommand that writes something (put, sum, get,
verify, info, export, import, link, store stats/fsck/gc) in each class:

  full        standard output is /dev/full: exit 4, "No space left on device"
  full-o      -o onto a full file system (a 64 KiB tmpfs mounted here,
              filled): exit 4, "No space left on device", no file left
  epipe-ign   standard output a pipe whose reader has closed, SIGPIPE
              ignored: exit 4, "Broken pipe"
  epipe       the same with SIGPIPE at its default: killed by SIGPIPE,
              nothing on stderr (as cat(1))
  enoent      an input file that does not exist: exit 4, the name and
              "No such file or directory"
  eacces      an input file that cannot be read (mode 000, as uid 65534):
              exit 4, the name and "Permission denied"

full-o needs root (mount) and eacces needs root (to become uid 65534);
without root those rows are skipped and said so. Usage: exit_codes.py ERIS
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ERIS = sys.argv[1]
NOBODY = 65534
NOBODY_ERIS = None  # a copy of ERIS that uid 65534 can run (see main)
failures = []
skipped = []


def run(args, stdout, env, sigpipe_ignored=False, as_nobody=False):
    """Run eris ARGS with stdout going to the fd `stdout`."""
    def child():
        signal.signal(signal.SIGPIPE,
                      signal.SIG_IGN if sigpipe_ignored else signal.SIG_DFL)
        if as_nobody:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
    p = subprocess.run([NOBODY_ERIS if as_nobody else ERIS] + args,
                       stdin=subprocess.DEVNULL,
                       stdout=stdout, stderr=subprocess.PIPE, env=env,
                       preexec_fn=child, timeout=120)
    return p.returncode, p.stderr.decode(errors="replace")


def check(name, rc, err, want_rc, want_text):
    """Exit code `want_rc`, and stderr empty (want_text None) or holding
    each of the fragments in `want_text` (a string or a tuple)."""
    if isinstance(want_text, str):
        want_text = (want_text,)
    ok = rc == want_rc and (want_text is None and err == "" or
                            want_text is not None and
                            all(t in err for t in want_text))
    status = "ok" if ok else "FAIL"
    print(f"{status}: {name}: exit {rc}, stderr {err.strip()!r}")
    if not ok:
        failures.append(f"{name}: exit {rc} (want {want_rc}), "
                        f"stderr {err.strip()!r} (want {want_text!r})")


def closed_pipe():
    """The write end of a pipe whose read end is already closed."""
    r, w = os.pipe()
    os.close(r)
    return w


def main():
    tmp = tempfile.mkdtemp(prefix="eris-exit-codes-")
    os.chmod(tmp, 0o755)
    try:
        return cases(tmp)
    finally:
        subprocess.run(["umount", os.path.join(tmp, "full")],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


def cases(tmp):
    env = dict(os.environ)
    env.pop("ERIS_STORE", None)
    env["HOME"] = tmp
    env["XDG_DATA_HOME"] = os.path.join(tmp, "data")
    store = os.path.join(tmp, "store")
    env["ERIS_STORE"] = "dir:" + store
    os.mkdir(store)

    def path(name):
        return os.path.join(tmp, name)

    with open(path("big"), "wb") as f:  # 300 KB: more than a pipe holds
        f.write(os.urandom(300000))
    with open(path("small"), "wb") as f:
        f.write(b"hello\n")

    def eris_ok(*args):
        p = subprocess.run([ERIS] + list(args), env=env, check=True,
                           stdout=subprocess.PIPE)
        return p.stdout.decode().strip()

    big = eris_ok("put", "-q", path("big"))
    small = eris_ok("put", "-q", path("small"))
    eris_ok("link", "-o", path("l.eris"), big)
    eris_ok("export", "-o", path("b.cbor"), big)
    with open(path("keep"), "w") as f:
        f.write(big + "\n")
    for d in ("store",):
        for root, dirs, files in os.walk(path(d)):
            for x in dirs + files:
                os.chmod(os.path.join(root, x), 0o755)

    # Commands that write to standard output.
    writers = {
        "put": ["put", path("big")],
        "sum": ["sum", path("big")],
        "get": ["get", big],
        "get-small": ["get", small],
        "verify": ["verify", big],
        "info": ["info", big],
        "info-link": ["info", path("l.eris")],
        "export": ["export", big],
        "export-small": ["export", small],
        "import": ["import", path("b.cbor")],
        "link": ["link", big],
        "store-stats": ["store", "stats"],
        "store-fsck": ["store", "fsck"],
        "store-gc": ["store", "gc", "--dry-run", "--keep", small],
    }
    for name, args in writers.items():
        fd = os.open("/dev/full", os.O_WRONLY)
        rc, err = run(args, fd, env)
        os.close(fd)
        check(f"full {name}", rc, err, 4, "No space left on device")

        w = closed_pipe()
        rc, err = run(args, w, env, sigpipe_ignored=True)
        os.close(w)
        check(f"epipe-ign {name}", rc, err, 4, "Broken pipe")

        w = closed_pipe()
        rc, err = run(args, w, env)
        os.close(w)
        check(f"epipe {name}", rc, err, -signal.SIGPIPE, None)

    # -o onto a full file system.
    full = path("full")
    os.mkdir(full)
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full],
            stderr=subprocess.DEVNULL).returncode != 0:
        skipped.append("full-o (needs root and mount -t tmpfs)")
    else:
        fd = os.open(os.path.join(full, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.close(fd)
        outputs = {
            "get": ["get", "-o", os.path.join(full, "out"), big],
            "get-small": ["get", "-o", os.path.join(full, "out"), small],
            "export": ["export", "-o", os.path.join(full, "out"), big],
            "export-small": ["export", "-o", os.path.join(full, "out"),
                             small],
            "link": ["link", "-o", os.path.join(full, "out"), big],
        }
        for name, args in outputs.items():
            rc, err = run(args, subprocess.DEVNULL, env)
            check(f"full-o {name}", rc, err, 4, "No space left on device")
            left = sorted(os.listdir(full))
            if left != ["filler"]:
                failures.append(f"full-o {name}: left behind {left}")

    # Input files that do not exist, or cannot be read.
    os.mkdir(path("in"))
    os.chmod(path("in"), 0o755)
    for name, mode in (("secret", 0o000), ("secret.eris", 0o000)):
        with open(path("in/" + name), "w") as f:
            f.write(big + "\n")
        os.chmod(path("in/" + name), mode)
    readers = {
        "put": lambda f: ["put", f],
        "sum": lambda f: ["sum", f],
        "info": lambda f: ["info", f + ".eris"],
        "import": lambda f: ["import", f],
        "store-gc": lambda f: ["store", "gc", "--dry-run", "--keep-file", f],
    }
    # The build tree may be out of uid 65534's reach (under a 0700
    # directory): that user runs copies of eris and liberis.
    global NOBODY_ERIS
    nbin = path("nbin")
    os.mkdir(nbin, 0o755)
    NOBODY_ERIS = os.path.join(nbin, "eris")
    shutil.copy(ERIS, NOBODY_ERIS)
    lib = [line.split()[2] for line in subprocess.run(
        ["ldd", ERIS], capture_output=True, text=True).stdout.splitlines()
        if line.split()[:1] == ["liberis.so.1"]][0]
    shutil.copy(lib, os.path.join(nbin, "liberis.so.1"))
    os.chmod(NOBODY_ERIS, 0o755)
    os.chmod(os.path.join(nbin, "liberis.so.1"), 0o644)
    nobody_store = path("nobody-store")
    os.mkdir(nobody_store)
    os.chown(nobody_store, NOBODY, NOBODY) if os.geteuid() == 0 else None
    for name, args in readers.items():
        missing = path("in/missing")
        rc, err = run(args(missing), subprocess.DEVNULL, env)
        check(f"enoent {name}", rc, err, 4,
              (missing + (".eris" if name == "info" else ""),
               "No such file or directory"))
        if os.geteuid() != 0:
            continue
        secret = path("in/secret")
        nenv = dict(env, ERIS_STORE="dir:" + nobody_store,
                    LD_LIBRARY_PATH=nbin)
        rc, err = run(args(secret), subprocess.DEVNULL, nenv,
                      as_nobody=True)
        check(f"eacces {name}", rc, err, 4,
              (secret + (".eris" if name == "info" else ""),
               "Permission denied"))
    if os.geteuid() != 0:
        skipped.append("eacces (needs root to become uid 65534)")

    for s in skipped:
        print(f"skipped: {s}")
    if failures:
        print("\n".join(["FAILED:"] + failures), file=sys.stderr)
        return 1
    print("exit code tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
