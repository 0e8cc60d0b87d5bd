/* util.c — small helpers shared by the checks. */
#include "probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sb_init(struct sbuf *b) {
    b->buf[0] = 0;
    b->len = 0;
    b->items = 0;
}

static void sb_vcat(struct sbuf *b, const char *fmt, va_list ap) {
    if (b->len >= sizeof b->buf - 1) return;
    int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
    if (n < 0) return;
    b->len += (size_t)n;
    if (b->len >= sizeof b->buf) {
        b->len = sizeof b->buf - 1;
        /* Mark the cut. */
        memcpy(b->buf + sizeof b->buf - 4, "...", 4);
    }
}

void sb_cat(struct sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sb_vcat(b, fmt, ap);
    va_end(ap);
}

void sb_add(struct sbuf *b, const char *fmt, ...) {
    if (b->items++ > 0) sb_cat(b, "; ");
    va_list ap;
    va_start(ap, fmt);
    sb_vcat(b, fmt, ap);
    va_end(ap);
}

const char *errname(int err) {
    switch (err) {
    case 0: return "success";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENODATA: return "ENODATA";
    case EOVERFLOW: return "EOVERFLOW";
    case ENOTSOCK: return "ENOTSOCK";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNRESET: return "ECONNRESET";
    case ENOBUFS: return "ENOBUFS";
    case EISCONN: return "EISCONN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTDOWN: return "EHOSTDOWN";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EALREADY: return "EALREADY";
    case EINPROGRESS: return "EINPROGRESS";
    case EDQUOT: return "EDQUOT";
    case ESTALE: return "ESTALE";
    case ENOKEY: return "ENOKEY";
    case EKEYREJECTED: return "EKEYREJECTED";
    default: {
        static __thread char buf[32];
        snprintf(buf, sizeof buf, "errno %d", err);
        return buf;
    }
    }
}

long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

ssize_t read_file(const char *path, char *buf, size_t cap) {
    if (cap == 0) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < cap - 1) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            buf[got] = 0;
            errno = e;
            return got > 0 ? (ssize_t)got : -1;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    return (ssize_t)got;
}

bool proc_status_field(long pid, const char *key, char *out, size_t cap) {
    char path[64], buf[8192];
    if (pid <= 0) snprintf(path, sizeof path, "/proc/self/status");
    else snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (read_file(path, buf, sizeof buf) < 0) return false;
    size_t klen = strlen(key);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *v = line + klen + 1;
            while (*v == ' ' || *v == '\t') v++;
            snprintf(out, cap, "%s", v);
            size_t n = strlen(out);
            while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) out[--n] = 0;
            return true;
        }
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

void canary_path(char *out, size_t cap, const char *dir, const char *tag) {
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const char *sep = (dir[0] && dir[strlen(dir) - 1] == '/') ? "" : "/";
    snprintf(out, cap, "%s%s.stockade-probe-%d-%u-%lx-%s", dir, sep, (int)getpid(), counter++,
             (unsigned long)ts.tv_nsec, tag);
}

int try_create_in(const char *dir, int *err) {
    char path[4096];
    canary_path(path, sizeof path, dir, "canary");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *err = errno;
        return 0;
    }
    close(fd);
    unlink(path);
    *err = 0;
    return 1;
}

bool is_allowed_writable(const char *path) {
    const char *builtin[] = {"/tmp", "/dev/shm"};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        size_t n = strlen(builtin[i]);
        if (strncmp(path, builtin[i], n) == 0 && (path[n] == 0 || path[n] == '/')) return true;
    }
    for (int i = 0; i < g_opt.writable_count; i++) {
        size_t n = strlen(g_opt.writable[i]);
        while (n > 1 && g_opt.writable[i][n - 1] == '/') n--;
        if (strncmp(path, g_opt.writable[i], n) == 0 && (path[n] == 0 || path[n] == '/')) return true;
    }
    return false;
}

int run_in_child(int (*fn)(void *), void *arg, long timeout_ms, bool *timed_out) {
    *timed_out = false;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int rc = fn(arg);
        _exit(rc & 0xff);
    }
    long deadline = now_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG | __WALL);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
            }
            *timed_out = true;
            return status;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

bool name_matches(const char *name, const char *pattern) {
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*') return strncmp(name, pattern, n - 1) == 0;
    if (n > 0 && pattern[n - 1] == '.') return strncmp(name, pattern, n) == 0;
    if (strcmp(name, pattern) == 0) return true;
    /* A bare family name ("net", "syscall") selects the family. */
    return strncmp(name, pattern, n) == 0 && name[n] == '.';
}

int list_pids(long *pids, int cap) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end == 0 && v > 0) pids[n++] = v;
    }
    closedir(d);
    return n;
}

int host_paths(const char **out, int cap) {
    /* Host paths that never belong in a sandbox: secrets and the host's own trees. */
    static const char *defaults[] = {
        "/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/root", "/home",
        "/var", "/boot", "/opt", "/srv", "/run", "/mnt", "/media", "/sys",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] && n < cap; i++) {
        /* A default that holds a directory the sandbox was given (say /home for /home/user) is
         * expected to exist: leave it out. */
        bool holds_given = false;
        size_t dl = strlen(defaults[i]);
        for (int w = 0; w < g_opt.writable_count; w++)
            if (strncmp(g_opt.writable[w], defaults[i], dl) == 0 &&
                (g_opt.writable[w][dl] == 0 || g_opt.writable[w][dl] == '/'))
                holds_given = true;
        if (!holds_given) out[n++] = defaults[i];
    }
    for (int i = 0; i < g_opt.host_file_count && n < cap; i++) out[n++] = g_opt.host_file[i];
    return n;
}
