/* checks_res.c — resource exhaustion: processes, memory, disk, /tmp, CPU, open files. Every try
 * is capped (--fork-limit, --mem-mb, --disk-mb, --nofile-limit) and cleans up after itself: it
 * kills and reaps its children, frees its memory (the allocating process exits) and deletes its
 * files. */
#include "probe.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void fmt_rlim(char *out, size_t cap, rlim_t v) {
    if (v == RLIM_INFINITY) snprintf(out, cap, "unlimited");
    else snprintf(out, cap, "%llu", (unsigned long long)v);
}

/*
 * res.fork-bomb — a fork bomb stops at the sandbox's process limit. Forks children that wait on a
 * pipe, until fork fails or --fork-limit (default 256) children exist. PASS: fork failed (EAGAIN:
 * the pids cgroup or RLIMIT_NPROC) before the cap. FAIL: the cap was reached: nothing below it
 * limits processes. All children are killed and reaped.
 */
static void check_res_fork_bomb(const struct probe_check *self) {
    (void)self;
    struct rlimit rl;
    char nproc[32] = "?";
    if (getrlimit(RLIMIT_NPROC, &rl) == 0) fmt_rlim(nproc, sizeof nproc, rl.rlim_cur);
    int p[2];
    if (pipe(p) < 0) {
        fail("pipe: %s", errname(errno));
        return;
    }
    pid_t *kids = calloc((size_t)g_opt.fork_limit, sizeof *kids);
    if (!kids) {
        fail("calloc failed");
        return;
    }
    long n = 0;
    int err = 0;
    long t0 = now_ms();
    while (n < g_opt.fork_limit) {
        pid_t pid = fork();
        if (pid == 0) {
            close(p[1]);
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            alarm(10); /* a backstop: never outlive the probe for long */
            char c;
            (void)!read(p[0], &c, 1);
            _exit(0);
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        kids[n++] = pid;
        if (now_ms() - t0 > 2000) {
            err = -1;
            break;
        }
    }
    long took = now_ms() - t0;
    close(p[1]);
    close(p[0]);
    for (long i = 0; i < n; i++) kill(kids[i], SIGKILL);
    for (long i = 0; i < n; i++) waitpid(kids[i], NULL, __WALL);
    free(kids);
    if (err > 0)
        pass("fork failed with %s after %ld children (cap %ld, %ld ms; RLIMIT_NPROC %s); all reaped", errname(err), n,
             g_opt.fork_limit, took, nproc);
    else if (err < 0)
        fail("forking slowed to a crawl: %ld children in %ld ms without a refusal (RLIMIT_NPROC %s)", n, took, nproc);
    else
        fail("forked %ld children (the --fork-limit cap) without hitting a limit (RLIMIT_NPROC %s); all reaped", n, nproc);
}

/* The memory hog: touch 1 MiB at a time, report each MiB on fd `arg`. Exit 0 at the cap, 2 when
 * mmap is refused. */
static int memory_hog(void *arg) {
    int fd = *(int *)arg;
    const size_t mib = 1 << 20;
    for (long i = 0; i < g_opt.mem_mb; i++) {
        char *p = mmap(NULL, mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 2;
        for (size_t off = 0; off < mib; off += 4096) p[off] = (char)(off | 1);
        (void)!write(fd, "m", 1);
    }
    return 0;
}

/*
 * res.memory — memory is limited. A child allocates and touches up to --mem-mb MiB (default 128),
 * 1 MiB at a time. PASS: it was stopped before the cap (killed by the memory cgroup's OOM killer,
 * or mmap refused by RLIMIT_AS). SKIP: it reached the cap (no limit at or below --mem-mb: raise it
 * above the sandbox's limit to test). The child exits, so its memory goes back.
 */
static void check_res_memory(const struct probe_check *self) {
    (void)self;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        fail("pipe: %s", errname(errno));
        return;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    /* The pipe must hold a byte per MiB without blocking the hog. */
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    bool to;
    int wfd = p[1];
    long deadline = g_opt.timeout_ms > 1000 ? g_opt.timeout_ms - 800 : g_opt.timeout_ms / 2;
    if (deadline > 2000) deadline = 2000;
    int st = run_in_child(memory_hog, &wfd, deadline, &to);
    close(p[1]);
    long mb = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) mb += n;
    close(p[0]);
    struct rlimit rl;
    char as[32] = "?";
    if (getrlimit(RLIMIT_AS, &rl) == 0) fmt_rlim(as, sizeof as, rl.rlim_cur);
    if (st < 0) fail("fork: %s", errname(errno));
    else if (to) skip("allocation still going at %ld MiB when its %ld ms ran out (slow reclaim or swap?): no limit seen (RLIMIT_AS %s)", mb, deadline, as);
    else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        pass("the allocating child was killed (SIGKILL: the memory cgroup's OOM killer) after %ld MiB of %ld", mb, g_opt.mem_mb);
    else if (WIFSIGNALED(st))
        pass("the allocating child died by signal %d after %ld MiB of %ld", WTERMSIG(st), mb, g_opt.mem_mb);
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
        pass("mmap refused after %ld MiB of %ld (RLIMIT_AS %s)", mb, g_opt.mem_mb, as);
    else
        skip("allocated and touched %ld MiB (the --mem-mb cap) without hitting a limit (RLIMIT_AS %s)", mb, as);
}

struct fill_result {
    long written_mb;
    int err;           /* 0: reached the cap */
    bool could_create;
    int create_err;
    unsigned long long fs_mb;
};

/* Write a canary file of up to cap_mb MiB in dir, then delete it. */
static struct fill_result fill_dir(const char *dir, long cap_mb) {
    struct fill_result r = {0, 0, false, 0, 0};
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0) r.fs_mb = (unsigned long long)sv.f_blocks * sv.f_frsize >> 20;
    char path[4096];
    canary_path(path, sizeof path, dir, "fill");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        r.create_err = errno;
        return r;
    }
    r.could_create = true;
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    for (long i = 0; i < cap_mb; i++) {
        size_t off = 0;
        while (off < sizeof chunk) {
            ssize_t w = write(fd, chunk + off, sizeof chunk - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                r.err = w < 0 ? errno : ENOSPC;
                break;
            }
            off += (size_t)w;
        }
        if (r.err) break;
        r.written_mb++;
    }
    close(fd);
    unlink(path);
    return r;
}

static void fill_check(const char *const *dirs, int n, const char *what) {
    struct sbuf stopped, open_, bad;
    sb_init(&stopped);
    sb_init(&open_);
    sb_init(&bad);
    for (int i = 0; i < n; i++) {
        struct fill_result r = fill_dir(dirs[i], g_opt.disk_mb);
        if (!r.could_create) {
            sb_add(&bad, "%s: cannot create a file (%s)", dirs[i], errname(r.create_err));
            continue;
        }
        if (r.err == ENOSPC || r.err == EDQUOT || r.err == EFBIG)
            sb_add(&stopped, "%s stopped after %ld MiB with %s (filesystem %llu MiB)", dirs[i], r.written_mb, errname(r.err), r.fs_mb);
        else if (r.err)
            sb_add(&stopped, "%s stopped after %ld MiB with %s", dirs[i], r.written_mb, errname(r.err));
        else
            sb_add(&open_, "%s took %ld MiB (the --disk-mb cap; filesystem %llu MiB)", dirs[i], r.written_mb, r.fs_mb);
    }
    if (open_.len)
        skip("no %s limit at or below --disk-mb %ld: %s%s%s%s%s", what, g_opt.disk_mb, open_.buf, stopped.len ? "; " : "",
             stopped.buf, bad.len ? "; " : "", bad.buf);
    else if (stopped.len)
        pass("%s%s%s; files removed", stopped.buf, bad.len ? "; " : "", bad.buf);
    else
        skip("nothing could be written: %s", bad.buf);
}

/*
 * res.disk — the --writable directories (the user's directories) are size-limited. Writes a file
 * of up to --disk-mb MiB (default 32) in each, then deletes it. PASS: every write stopped before
 * the cap (ENOSPC, EDQUOT, or EFBIG from RLIMIT_FSIZE). SKIP: no --writable given, or a directory
 * took the whole cap (no limit at or below it).
 */
static void check_res_disk(const struct probe_check *self) {
    (void)self;
    if (g_opt.writable_count == 0) {
        skip("no --writable directory given");
        return;
    }
    fill_check(g_opt.writable, g_opt.writable_count, "size");
}

/*
 * res.tmp — /tmp and /dev/shm (tmpfs: memory) are size-limited. Same as res.disk for /tmp and
 * /dev/shm. PASS: both stopped before --disk-mb. SKIP: one took the whole cap.
 */
static void check_res_tmp(const struct probe_check *self) {
    (void)self;
    const char *dirs[2];
    int n = 0;
    struct stat st;
    dirs[n++] = "/tmp";
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) dirs[n++] = "/dev/shm";
    fill_check(dirs, n, "tmpfs size");
}

/*
 * res.cpu — CPU time is limited. PASS: RLIMIT_CPU is finite (reports soft and hard). SKIP: it is
 * unlimited (a wall-clock limit enforced by the host may still apply; the probe does not burn CPU
 * to find out).
 */
static void check_res_cpu(const struct probe_check *self) {
    (void)self;
    struct rlimit rl;
    if (getrlimit(RLIMIT_CPU, &rl) < 0) {
        fail("getrlimit(RLIMIT_CPU): %s", errname(errno));
        return;
    }
    char s[32], h[32];
    fmt_rlim(s, sizeof s, rl.rlim_cur);
    fmt_rlim(h, sizeof h, rl.rlim_max);
    if (rl.rlim_cur != RLIM_INFINITY) pass("RLIMIT_CPU soft %s s, hard %s s", s, h);
    else skip("RLIMIT_CPU is unlimited (hard %s): only a wall-clock limit of the host can stop a busy loop", h);
}

/*
 * res.nofile — open files are limited. Opens /dev/null (dup) until EMFILE or --nofile-limit
 * (default 4096) descriptors. PASS: EMFILE before the cap (reports RLIMIT_NOFILE). SKIP: the cap
 * was reached (the limit is above it). FAIL: ENFILE (the whole system's file table ran out).
 * Everything is closed.
 */
static void check_res_nofile(const struct probe_check *self) {
    (void)self;
    struct rlimit rl;
    char lim[32] = "?";
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) fmt_rlim(lim, sizeof lim, rl.rlim_cur);
    int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (base < 0) {
        fail("open(/dev/null): %s", errname(errno));
        return;
    }
    int *fds = calloc((size_t)g_opt.nofile_limit, sizeof *fds);
    if (!fds) {
        close(base);
        fail("calloc failed");
        return;
    }
    fds[0] = base;
    long opened = 1;
    int err = 0;
    while (opened < g_opt.nofile_limit) {
        int fd = fcntl(base, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            break;
        }
        fds[opened++] = fd;
    }
    for (long i = 0; i < opened; i++) close(fds[i]);
    free(fds);
    if (err == EMFILE) pass("EMFILE after opening %ld descriptors (RLIMIT_NOFILE %s)", opened, lim);
    else if (err == ENFILE) fail("ENFILE after %ld: the system's file table is exhausted", opened);
    else if (err) fail("stopped with %s after %ld", errname(err), opened);
    else skip("opened %ld descriptors (the --nofile-limit cap) without EMFILE (RLIMIT_NOFILE %s)", opened, lim);
}

/*
 * res.priority — no process can take CPU or disk time from the host: raising the nice priority,
 * real-time scheduling (SCHED_FIFO, SCHED_RR: a busy loop would starve the machine's other work)
 * and the real-time I/O class are refused. PASS: all three are refused. FAIL: one is allowed (it
 * is reverted at once).
 */
static void check_res_priority(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, 0);
    if (setpriority(PRIO_PROCESS, 0, nice_now - 1) == 0) {
        setpriority(PRIO_PROCESS, 0, nice_now);
        sb_add(&bad, "nice %d -> %d allowed", nice_now, nice_now - 1);
    } else {
        sb_add(&b, "nice %d -> %d: %s", nice_now, nice_now - 1, errname(errno));
    }
    int policies[2] = {SCHED_FIFO, SCHED_RR};
    const char *pn[2] = {"SCHED_FIFO", "SCHED_RR"};
    for (int i = 0; i < 2; i++) {
        struct sched_param sp = {.sched_priority = 1};
        if (sched_setscheduler(0, policies[i], &sp) == 0) {
            struct sched_param zero = {.sched_priority = 0};
            sched_setscheduler(0, SCHED_OTHER, &zero);
            sb_add(&bad, "%s allowed", pn[i]);
        } else {
            sb_add(&b, "%s: %s", pn[i], errname(errno));
        }
    }
    /* ioprio_set(IOPRIO_WHO_PROCESS, self, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 0)) */
    long old = syscall(SYS_ioprio_get, 1, 0);
    if (syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0) == 0) {
        syscall(SYS_ioprio_set, 1, 0, old >= 0 ? old : 0);
        sb_add(&bad, "real-time I/O class allowed");
    } else {
        sb_add(&b, "I/O class RT: %s", errname(errno));
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

const struct probe_check probe_checks_res[] = {
    {"res.nofile", check_res_nofile, NULL},
    {"res.cpu", check_res_cpu, NULL},
    {"res.priority", check_res_priority, NULL},
    {"res.disk", check_res_disk, NULL},
    {"res.tmp", check_res_tmp, NULL},
    {"res.memory", check_res_memory, NULL},
    {"res.fork-bomb", check_res_fork_bomb, NULL},
    {NULL, NULL, NULL},
};
