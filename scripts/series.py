#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The patch series as commits: the repo's series/ <-> the assembled tree's git.

    series.py assemble   build the series' commits on the base and check them out
    series.py writeback  write the tree's commits (base..HEAD) back into the repo
                         (--force: even if the repo changed too; the tree wins)
    series.py v1 REF     import series/v1.mbox as commits on the base, at REF

The repo holds the series, one directory per commit, in order:

    series/NN-slug/message      subject, blank line, body
    series/NN-slug/edits.patch  edits to files that exist before the commit
                                (a diff against the previous commit)
    series/NN-slug/files        the new files it adds, one path a line; each
                                lives in the repo at its kernel path

Rules, checked both ways (assembly and write-back):
- every file of the repo outside the harness (HARNESS below) is claimed by
  exactly one commit's `files`, and no claimed file exists before its commit;
- a file the series adds is whole: no later commit changes or deletes it
  (fold such a change into the commit that adds the file);
- no commit removes or changes a line that an earlier commit of the series
  added (git blame of every removed line must name the base).

Commits are made with a fixed identity and date, so the same repo gives the
same commit ids, and "nothing changed" is "HEAD is already that commit".
Checking out a new target with `git reset --hard` rewrites only the files
whose content changed, so incremental kernel builds stay no-ops.

Environment: TREE (the assembled tree), ROOT (the repo), ASSEMBLE_FORCE=1 to
drop commits or edits in the tree that are not in the repo.
"""

import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

# Top-level names of the repo that are the harness, not kernel files.
HARNESS = {".ci", ".gitignore", "HACKING.md", "Makefile", "README.md", "bench", "common",
           "configs", "model", "scripts", "series", "stress", "userspace"}
DIR_RE = re.compile(r"^(\d\d)-[a-z0-9][a-z0-9-]*$")
ASSEMBLED_REF = "refs/cgsig/assembled"
IDENT = {
    "GIT_AUTHOR_NAME": "cgroup.signal series",
    "GIT_AUTHOR_EMAIL": "cgroup-signal@localhost.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "cgroup.signal series",
    "GIT_COMMITTER_EMAIL": "cgroup-signal@localhost.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


class SeriesError(Exception):
    pass


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f"==> {msg}", file=sys.stderr)


class Git:
    """git in the assembled tree, optionally with a private index."""

    def __init__(self, tree, index=None):
        self.tree = tree
        self.env = dict(os.environ, **IDENT)
        self.env.pop("GIT_INDEX_FILE", None)
        if index:
            self.env["GIT_INDEX_FILE"] = str(index)

    def run(self, *args, input=None, check=True, binary=False):
        p = subprocess.run(["git", "-C", str(self.tree), *args], input=input,
                           capture_output=True, env=self.env, text=not binary)
        if check and p.returncode:
            raise SeriesError(f"git {' '.join(args)}: {p.stderr.strip()}")
        return p

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout.strip()

    def ok(self, *args):
        return self.run(*args, check=False).returncode == 0


# --- the repo's side ------------------------------------------------------------

class Commit:
    def __init__(self, name, message, edits, files):
        self.name, self.message, self.edits, self.files = name, message, edits, files


def repo_files(root):
    """Tracked and untracked-but-not-ignored files: work in progress counts."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others",
                          "--exclude-standard", "-z"], capture_output=True, check=True).stdout
    return sorted({f for f in out.decode().split("\0") if f and (root / f).is_file()})


def read_repo(root):
    """The series as the repo says it: a list of Commit, checked for ownership."""
    sdir = root / "series"
    dirs = sorted(d for d in sdir.iterdir() if d.is_dir() and DIR_RE.match(d.name))
    if not dirs:
        raise SeriesError("series/: no commit directories (NN-slug)")
    nums = [int(DIR_RE.match(d.name).group(1)) for d in dirs]
    if nums != list(range(1, len(dirs) + 1)):
        raise SeriesError(f"series/: commit directories must be numbered 01..{len(dirs):02d} "
                          f"without gaps: {[d.name for d in dirs]}")
    commits, owner = [], {}
    for d in dirs:
        extra = {p.name for p in d.iterdir()} - {"message", "edits.patch", "files"}
        if extra:
            raise SeriesError(f"series/{d.name}: unknown entries {sorted(extra)}")
        if not (d / "message").is_file():
            raise SeriesError(f"series/{d.name}/message missing")
        message = (d / "message").read_text()
        if not message.strip() or "\n\n" not in message.strip("\n") + "\n\n":
            raise SeriesError(f"series/{d.name}/message: subject, blank line, body")
        edits = (d / "edits.patch").read_bytes() if (d / "edits.patch").exists() else None
        files = []
        if (d / "files").exists():
            files = [ln.strip() for ln in (d / "files").read_text().splitlines()
                     if ln.strip() and not ln.startswith("#")]
        for f in files:
            if f.split("/")[0] in HARNESS:
                raise SeriesError(f"series/{d.name}/files: {f} is a harness path")
            if f in owner:
                raise SeriesError(f"{f} is claimed by both series/{owner[f]} and series/{d.name}")
            if not (root / f).is_file():
                raise SeriesError(f"series/{d.name}/files: {f} is not in the repo")
            owner[f] = d.name
        if edits is None and not files:
            raise SeriesError(f"series/{d.name}: neither edits.patch nor files")
        commits.append(Commit(d.name, message, edits, files))
    unclaimed = [f for f in repo_files(root) if f.split("/")[0] not in HARNESS and f not in owner]
    if unclaimed:
        raise SeriesError("files at kernel paths that no commit claims (add them to a "
                          "series/NN-*/files, or remove them):\n  " + "\n  ".join(unclaimed))
    return commits


def build(git, root, commits, idx):
    """Make the commits on the base; returns the last commit's id."""
    parent = git.out("rev-parse", "base")
    gi = Git(git.tree, idx)
    for c in commits:
        gi.run("read-tree", parent)
        if c.edits:
            p = gi.run("apply", "--cached", "--whitespace=error-all", "-", input=c.edits,
                       binary=True, check=False)
            if p.returncode:
                raise SeriesError(f"series/{c.name}/edits.patch does not apply on the previous "
                                  f"commit:\n{p.stderr.decode().strip()}")
        for f in c.files:
            if gi.ok("cat-file", "-e", f"{parent}:{f}"):
                raise SeriesError(f"series/{c.name}/files: {f} exists before this commit: "
                                  "change it with edits.patch, not a copy")
            mode = "100755" if os.access(root / f, os.X_OK) else "100644"
            blob = gi.out("hash-object", "-w", f"--path={f}", str(root / f))
            gi.run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{f}")
        tree = gi.out("write-tree")
        parent = gi.out("commit-tree", tree, "-p", parent, "-F", "-", input=c.message)
    return parent


def series_of(git, head):
    """(tree, message) of each commit base..head, oldest first."""
    ids = git.out("rev-list", "--reverse", "--topo-order", f"base..{head}").split()
    return [(git.out("rev-parse", f"{c}^{{tree}}"),
             git.run("log", "-1", "--format=%B", c).stdout.rstrip("\n")) for c in ids]


# --- the rules on a built series ---------------------------------------------------

def changes(git, parent, commit):
    """[(status, path)] of commit against parent, renames as delete + add."""
    out = git.out("diff-tree", "-r", "--no-renames", "--name-status", "-z", parent, commit)
    parts = [p for p in out.split("\0") if p]
    return list(zip(parts[0::2], parts[1::2]))


def check_rules(git, head):
    """The series base..head adds files whole and rewrites no line it added."""
    base = git.out("rev-parse", "base")
    ids = git.out("rev-list", "--reverse", "--topo-order", f"base..{head}").split()
    if git.out("rev-list", "--merges", f"base..{head}"):
        raise SeriesError("the series has merge commits: it must be linear on base")
    added_by = {}
    for n, c in enumerate(ids, 1):
        parent = f"{c}^"
        for status, path in changes(git, parent, c):
            if path in added_by:
                raise SeriesError(f"commit {n} changes {path}, which commit {added_by[path]} "
                                  f"adds: fold the change into commit {added_by[path]}")
            if status == "A":
                if path.split("/")[0] in HARNESS:
                    raise SeriesError(f"commit {n} adds {path}: a harness path of the repo; "
                                      "new kernel files cannot live there")
                added_by[path] = n
                continue
            if status not in ("M", "D", "T"):
                raise SeriesError(f"commit {n}: {status} {path} is not supported")
            # Every line this commit removes from the file must come from the base.
            diff = git.out("diff", "-U0", "--no-color", parent, c, "--", path)
            for m in re.finditer(r"^@@ -(\d+)(?:,(\d+))? ", diff, re.M):
                start, count = int(m.group(1)), int(m.group(2) or 1)
                if not count:
                    continue
                blame = git.out("blame", "--porcelain", "-L", f"{start},+{count}", parent,
                                "--", path)
                shas = {ln.split()[0] for ln in blame.splitlines()
                        if re.match(r"^[0-9a-f]{40} \d+ \d+", ln)}
                later = shas - {base}
                if later:
                    k = [i for i, x in enumerate(ids, 1) if x in later]
                    raise SeriesError(f"commit {n} rewrites lines {start}-{start + count - 1} "
                                      f"of {path} that commit {k[0] if k else '?'} added: "
                                      "fold the change into that commit")
    return ids


# --- assemble ------------------------------------------------------------------

def tree_dirty(git, target):
    """Paths whose work-tree content is not HEAD's and not the target's either."""
    st = git.run("status", "--porcelain", "-z", "--untracked-files=all").stdout
    paths = [e[3:] for e in st.split("\0") if len(e) > 3 and e[2] == " "]
    lost = []
    for p in paths:
        f = git.tree / p
        want = git.run("rev-parse", "-q", "--verify", f"{target}:{p}", check=False).stdout.strip()
        have = git.out("hash-object", "--", p) if f.is_file() else ""
        if have != want:
            lost.append(p)
    return lost


def assemble(root, tree):
    git = Git(tree)
    commits = read_repo(root)
    idx = tree / ".git" / "series-index"
    try:
        target = build(git, root, commits, idx)
    finally:
        idx.unlink(missing_ok=True)
    check_rules(git, target)
    force = os.environ.get("ASSEMBLE_FORCE") == "1"
    head = git.out("rev-parse", "HEAD")
    last = git.run("rev-parse", "-q", "--verify", ASSEMBLED_REF, check=False).stdout.strip()
    if head != target:
        if last and head != last and series_of(git, head) != series_of(git, target):
            if not force:
                raise SeriesError(
                    f"{tree} has commits that are not in the repo (HEAD {head[:12]}, last "
                    "assembled " + last[:12] + "): write them back with `make writeback`, "
                    "or rerun with ASSEMBLE_FORCE=1 to drop them")
            log(f"ASSEMBLE_FORCE=1: dropping the tree's commits (HEAD was {head[:12]})")
    lost = tree_dirty(git, target)
    if lost and not force:
        raise SeriesError("the tree has uncommitted edits that are not in the repo:\n  "
                          + "\n  ".join(lost) + "\ncommit them in the tree and run `make "
                          "writeback`, or rerun with ASSEMBLE_FORCE=1 to drop them")
    if head != target or git.run("status", "--porcelain", "-uno").stdout.strip():
        git.run("reset", "-q", "--hard", target)
        stat = git.out("diff", "--shortstat", "base", "HEAD")
        log(f"assembled tree at {target[:12]}: {len(commits)} commits ({stat})")
    git.run("update-ref", ASSEMBLED_REF, target)


# --- write back ------------------------------------------------------------------

def slug(subject):
    s = re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")
    words, out = s.split("-"), ""
    for w in words:
        if len(out) + len(w) + 1 > 40:
            break
        out = f"{out}-{w}" if out else w
    return out or "commit"


def strip_index_lines(patch):
    """Blob ids in `index` lines change whenever an earlier commit does: drop them."""
    return re.sub(rb"^index [0-9a-f]+\.\.[0-9a-f]+( \d+)?\n", b"", patch, flags=re.M)


def writeback(root, tree, force=False):
    git = Git(tree)
    if git.run("status", "--porcelain", "-uno").stdout.strip():
        raise SeriesError(f"{tree} has uncommitted changes: commit them (git commit --fixup, "
                          "then git rebase -i --autosquash base) before writing back")
    head = git.out("rev-parse", "HEAD")
    ids = check_rules(git, head)
    if not ids:
        raise SeriesError("the tree has no commits on base")
    want = series_of(git, head)

    idx = tree / ".git" / "series-index"
    try:
        old = read_repo(root)
        have = series_of(git, build(git, root, old, idx))
    except SeriesError:
        if not force:
            raise
        old, have = [], None
    finally:
        idx.unlink(missing_ok=True)
    if have == want:
        log("nothing to write back: the repo already holds the tree's series")
        return
    last = git.run("rev-parse", "-q", "--verify", ASSEMBLED_REF, check=False).stdout.strip()
    if not force and (not last or series_of(git, last) != have):
        raise SeriesError("the repo's series changed since the tree was last assembled, and "
                          "the tree has commits of its own: both changed, nothing written. "
                          "Commit or stash the repo's change, write back, then reapply it")

    old_by_name = {c.name: c for c in old}
    new = []
    for n, c in enumerate(ids, 1):
        parent = f"{c}^"
        msg = git.run("log", "-1", "--format=%B", c).stdout.rstrip("\n") + "\n"
        name = f"{n:02d}-{slug(msg.splitlines()[0])}"
        st = changes(git, parent, c)
        files = sorted(p for s, p in st if s == "A")
        edited = sorted(p for s, p in st if s != "A")
        edits = None
        if edited:
            edits = strip_index_lines(git.run(
                "diff", "--no-color", "--no-renames", "--no-ext-diff", "--src-prefix=a/",
                "--dst-prefix=b/", parent, c, "--", *edited, binary=True).stdout)
            prev = old_by_name.get(name)
            if prev and prev.edits and prev.edits != edits:
                # Keep the repo's bytes when they make the same commit (no churn).
                gi = Git(tree, idx)
                try:
                    gi.run("read-tree", parent)
                    if gi.run("apply", "--cached", "-", input=prev.edits, binary=True,
                              check=False).returncode == 0:
                        for f in files:
                            gi.run("update-index", "--add", "--cacheinfo",
                                   f"100644,{git.out('rev-parse', f'{c}:{f}')},{f}")
                        if gi.out("write-tree") == git.out("rev-parse", f"{c}^{{tree}}"):
                            edits = prev.edits
                finally:
                    idx.unlink(missing_ok=True)
        new.append((name, msg, edits, files, c))

    # Stage the whole new repo content, check it rebuilds the tree's series exactly, then
    # write it.
    with tempfile.TemporaryDirectory() as tmp:
        stage = pathlib.Path(tmp)
        shutil.copytree(root, stage / "r", symlinks=True,
                        ignore=shutil.ignore_patterns("out", ".git"))
        sr = stage / "r"
        for d in (sr / "series").iterdir():
            if d.is_dir() and DIR_RE.match(d.name):
                shutil.rmtree(d)
        for c in old:
            for f in c.files:
                (sr / f).unlink(missing_ok=True)
        for name, msg, edits, files, c in new:
            d = sr / "series" / name
            d.mkdir(parents=True)
            (d / "message").write_text(msg)
            if edits:
                (d / "edits.patch").write_bytes(edits)
            if files:
                (d / "files").write_text("".join(f"{f}\n" for f in files))
            for f in files:
                dst = sr / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(git.run("cat-file", "blob", f"{c}:{f}", binary=True).stdout)
                mode = git.out("ls-tree", c, "--", f).split()[0]
                dst.chmod(0o755 if mode == "100755" else 0o644)
        # The stage is a copy of the repo, not a git checkout: list its files by walking it.
        subprocess.run(["git", "init", "-q", str(sr)], check=True, capture_output=True)
        try:
            got = series_of(git, build(git, sr, read_repo(sr), idx))
        finally:
            idx.unlink(missing_ok=True)
        if got != want:
            raise SeriesError("internal: the staged repo does not rebuild the tree's series; "
                              "nothing written")
        # Write: series/NN-* directories and the kernel files, only what differs.
        for d in (root / "series").iterdir():
            if d.is_dir() and DIR_RE.match(d.name) and not (sr / "series" / d.name).exists():
                shutil.rmtree(d)
        newfiles = {f for _, _, _, files, _ in new for f in files}
        for c in old:
            for f in c.files:
                if f not in newfiles:
                    (root / f).unlink(missing_ok=True)
                    log(f"removed {f} (no commit adds it any more)")
        changed = 0
        for rel in [f"series/{n}/{x}" for n, *_ in new for x in ("message", "edits.patch", "files")]\
                + sorted(newfiles):
            src, dst = sr / rel, root / rel
            if not src.exists():
                if dst.exists():
                    dst.unlink()
                    changed += 1
                continue
            if not dst.exists() or dst.read_bytes() != src.read_bytes():
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(src.read_bytes())
                changed += 1
            dst.chmod(src.stat().st_mode & 0o777)
    log(f"wrote {len(new)} commits back into the repo ({changed} files changed)")
    assemble(root, tree)


# --- v1 import -----------------------------------------------------------------------

def import_mbox(tree, mbox, ref):
    """Commit each patch of an mbox on base, in a private index; point ref at the last."""
    git = Git(tree)
    digest = hashlib.sha256(mbox.read_bytes()).hexdigest()[:16]
    note = tree / ".git" / f"cgsig-{ref.replace('/', '-')}.sha"
    if note.exists() and note.read_text() == digest and git.ok("rev-parse", "-q", "--verify", ref):
        return
    idx = tree / ".git" / "series-index"
    with tempfile.TemporaryDirectory() as tmp:
        n = int(subprocess.run(["git", "mailsplit", "-o" + tmp, str(mbox)], check=True,
                               capture_output=True, text=True).stdout.strip())
        parent = git.out("rev-parse", "base")
        gi = Git(tree, idx)
        try:
            for i in range(1, n + 1):
                mail = pathlib.Path(tmp) / f"{i:04d}"
                msg, patch = pathlib.Path(tmp) / "msg", pathlib.Path(tmp) / "patch"
                info = subprocess.run(["git", "mailinfo", str(msg), str(patch)],
                                      stdin=mail.open("rb"), capture_output=True,
                                      check=True, text=True).stdout
                subject = re.search(r"^Subject: (.*)$", info, re.M).group(1)
                gi.run("read-tree", parent)
                gi.run("apply", "--cached", str(patch))
                body = msg.read_text().strip("\n")
                message = f"{subject}\n\n{body}\n" if body else f"{subject}\n"
                parent = gi.out("commit-tree", gi.out("write-tree"), "-p", parent, "-F", "-",
                                input=message)
        finally:
            idx.unlink(missing_ok=True)
    git.run("update-ref", ref, parent)
    note.write_text(digest)


def main():
    root = pathlib.Path(os.environ.get("ROOT") or pathlib.Path(__file__).resolve().parents[1])
    tree = pathlib.Path(os.environ["TREE"])
    try:
        match sys.argv[1:]:
            case ["assemble"]:
                assemble(root, tree)
            case ["writeback"]:
                writeback(root, tree)
            case ["writeback", "--force"]:
                writeback(root, tree, force=True)
            case ["v1", ref]:
                import_mbox(tree, root / "series" / "v1.mbox", ref)
            case _:
                die("usage: series.py assemble | writeback | v1 REF")
    except SeriesError as e:
        die(str(e))


if __name__ == "__main__":
    main()
