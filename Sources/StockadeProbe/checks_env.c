/* checks_env.c — what the sandbox inherited: file descriptors, environment, other processes'
 * environments. */
#include "probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

extern char **environ;

/*
 * fd.leaks — no file descriptor beyond 0, 1 and 2 (and those named by --allow-fd) is open when
 * the probe starts. PASS: none. FAIL: each leaked fd with what it points to (a leaked fd of the
 * daemon can be a socket, a host directory or a cgroup file: a way out). Runs in the probe's own
 * process, first, before the probe opens anything: it only calls fcntl and readlink.
 */
void probe_check_fd_leaks(char *detail, size_t cap, int *status) {
    struct rlimit rl;
    long limit = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < limit)
        limit = (long)rl.rlim_cur;
    int leaked[64];
    int nleaked = 0, total = 0;
    for (int fd = 3; fd < limit; fd++) {
        if (fcntl(fd, F_GETFD) < 0) continue;
        bool allowed = false;
        for (int i = 0; i < g_opt.allow_fd_count; i++)
            if (g_opt.allow_fd[i] == fd) allowed = true;
        if (allowed) continue;
        total++;
        if (nleaked < 64) leaked[nleaked++] = fd;
    }
    int std_open = 0;
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) >= 0) std_open++;
    if (total == 0) {
        *status = PROBE_PASS;
        snprintf(detail, cap, "scanned fds 3..%ld with fcntl(F_GETFD): none open beyond stdio (%d of 0-2 open)%s",
                 limit - 1, std_open, g_opt.allow_fd_count ? " and the --allow-fd ones" : "");
        return;
    }
    *status = PROBE_FAIL;
    size_t off = (size_t)snprintf(detail, cap, "%d fd(s) open beyond stdio:", total);
    for (int i = 0; i < nleaked && off < cap; i++) {
        char path[64], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", leaked[i]);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) snprintf(target, sizeof target, "?");
        else target[n] = 0;
        int fl = fcntl(leaked[i], F_GETFL);
        off += (size_t)snprintf(detail + off, cap - off, " %d -> %s (%s)", leaked[i], target,
                                (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw");
    }
}

/* Find the --canary-env names in `block` (NAME=VALUE entries, NUL-separated); append finds. */
static int scan_env_block(const char *block, size_t len, struct sbuf *found, const char *where) {
    int hits = 0;
    for (size_t off = 0; off < len;) {
        const char *entry = block + off;
        size_t elen = strnlen(entry, len - off);
        const char *eq = memchr(entry, '=', elen);
        size_t nlen = eq ? (size_t)(eq - entry) : elen;
        for (int i = 0; i < g_opt.canary_env_count; i++) {
            const char *c = g_opt.canary_env[i];
            if (strlen(c) == nlen && strncmp(entry, c, nlen) == 0) {
                sb_add(found, "%s: canary %s", where, c);
                hits++;
            }
        }
        off += elen + 1;
    }
    return hits;
}

/*
 * env.secrets — the environment holds nothing of the host's. Needs --canary-env NAME...: variables
 * the test (or the daemon) set in the spawning process. PASS: none of them is in the environment
 * (the environment was built from scratch, not inherited). FAIL: one is. The line lists the names
 * of the variables present. (Names alone cannot tell a host secret from a variable the sandbox
 * was given on purpose, such as STOCKADE_WORK, so only canaries decide.)
 */
static void check_env_secrets(const struct probe_check *self) {
    (void)self;
    struct sbuf found, names;
    sb_init(&found);
    sb_init(&names);
    int count = 0, hits = 0;
    for (char **e = environ; e && *e; e++) {
        count++;
        hits += scan_env_block(*e, strlen(*e) + 1, &found, "environ");
        const char *eq = strchr(*e, '=');
        sb_cat(&names, "%s%.*s", names.len ? "," : "", (int)(eq ? eq - *e : (long)strlen(*e)), *e);
    }
    if (g_opt.canary_env_count == 0) skip("no --canary-env given (%d variables here: %s)", count, names.buf);
    else if (hits) fail("%s", found.buf);
    else pass("none of %d canary variable(s) among the %d variables here (%s)", g_opt.canary_env_count, count, names.buf);
}

/*
 * proc.host-environ — no process visible from here reveals the host's environment. Needs
 * --canary-env. Reads /proc/PID/environ of every process in /proc (and of --host-pid). PASS: no
 * readable one holds a canary (the host's processes are not visible in a pid namespace; the
 * non-dumpable worker's environ is unreadable). FAIL: a canary is found.
 */
static void check_proc_host_environ(const struct probe_check *self) {
    (void)self;
    if (g_opt.canary_env_count == 0) {
        skip("no --canary-env given");
        return;
    }
    long pids[4096];
    int n = list_pids(pids, 4096);
    if (n < 0) {
        pass("/proc is not readable here (%s): no environment of another process is visible", errname(errno));
        return;
    }
    if (g_opt.host_pid > 0 && n < 4096) pids[n++] = g_opt.host_pid;
    struct sbuf found;
    sb_init(&found);
    int readable = 0, unreadable = 0, hits = 0;
    static char buf[1 << 17];
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/environ", pids[i]);
        ssize_t len = read_file(path, buf, sizeof buf);
        if (len < 0) {
            unreadable++;
            continue;
        }
        readable++;
        char where[32];
        snprintf(where, sizeof where, "pid %ld", pids[i]);
        hits += scan_env_block(buf, (size_t)len, &found, where);
    }
    if (hits) fail("%s", found.buf);
    else pass("read /proc/PID/environ of %d process(es) (%d unreadable or gone): no canary", readable, unreadable);
}

const struct probe_check probe_checks_env[] = {
    {"env.secrets", check_env_secrets, NULL},
    {"proc.host-environ", check_proc_host_environ, NULL},
    {NULL, NULL, NULL},
};
