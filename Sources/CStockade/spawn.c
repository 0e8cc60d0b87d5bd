/*
 * spawn.c — stk_spawn: clone3 into new namespaces, build the root, drop privileges, exec.
 *
 * The parent half (stk_spawn) may run in a multithreaded process. The child half (child_main and
 * everything it calls, all marked [child-safe]) runs between clone and exec in a copy of that
 * process whose other threads are gone and may have held locks: it makes raw system calls on
 * memory the parent prepared, and nothing else. No malloc, no stdio, no glibc wrappers that take
 * locks or broadcast to threads, and it leaves only through execve or _exit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stockade.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* ---------------------------------------------------------------------------------------------
 * Raw system calls for the child. The child is made with CLONE_VM (it shares the parent's memory
 * until exec, as posix_spawn's child does), so it must not write anything the parent owns: not
 * errno, not thread-local storage. rawsys returns -errno on failure and touches no memory of its
 * own. [child-safe]
 * ------------------------------------------------------------------------------------------- */
#if defined(__x86_64__)
#define STK_CLONE_VM 1
static inline long rawsys6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define STK_CLONE_VM 1
static inline long rawsys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#else
/* Elsewhere the child is made with fork semantics (no CLONE_VM), where syscall()'s errno is the
 * child's own copy. */
#define STK_CLONE_VM 0
static inline long rawsys6(long n, long a, long b, long c, long d, long e, long f) {
    long r = syscall(n, a, b, c, d, e, f);
    return r < 0 ? -errno : r;
}
#endif
#define rawsys_pad(n, a, b, c, d, e, f, ...)                                                      \
    rawsys6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define rawsys(...) rawsys_pad(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)

/* The record a failing child writes to the error pipe. Fixed size: one write, one read. */
struct stk_child_error {
    int32_t step;
    int32_t err;
    int32_t index;
    int32_t _pad;
};

/* ---------------------------------------------------------------------------------------------
 * Child side. [child-safe] throughout.
 * ------------------------------------------------------------------------------------------- */

/* [child-safe] Raw write of the failure record, then exit. Never returns. */
static void __attribute__((noreturn)) child_fail(int errfd, int step, int err, int index) {
    struct stk_child_error rec = {.step = step, .err = err, .index = index, ._pad = 0};
    (void)rawsys(SYS_write, errfd, &rec, sizeof rec);
    for (;;) rawsys(SYS_exit_group, 127);
}

/* [child-safe] A raw system call's result is -errno on failure (rawsys never touches errno:
 * the child shares its parent's memory and thread-local storage until exec). */
#define CHECK(expr, step, index)                                                                   \
    do {                                                                                           \
        long check_rc_ = (long)(expr);                                                             \
        if (check_rc_ < 0) child_fail(errfd, (step), (int)-check_rc_, (index));                    \
    } while (0)

/* [child-safe] Fails with the step unless the result is success or -EEXIST. */
#define CHECK_EXISTS_OK(expr, step, index)                                                         \
    do {                                                                                           \
        long check_rc_ = (long)(expr);                                                             \
        if (check_rc_ < 0 && check_rc_ != -EEXIST) child_fail(errfd, (step), (int)-check_rc_, (index)); \
    } while (0)

static long raw_mount(const char *src, const char *tgt, const char *type, unsigned long flags,
                      const void *data) {
    return rawsys(SYS_mount, src, tgt, type, flags, data);
}

/* [child-safe] Create an empty file to bind a file onto. */
static long make_file_target(const char *path) {
    long fd = rawsys(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0) return fd == -EEXIST ? 0 : fd;
    rawsys(SYS_close, fd);
    return 0;
}

/* [child-safe] */
static void apply_mounts(const struct stk_spawn_spec *s, int errfd) {
    for (int i = 0; i < s->mount_count; i++) {
        const struct stk_mount *m = &s->mounts[i];
        switch (m->kind) {
        case STK_MOUNT_MKDIR:
            CHECK_EXISTS_OK(rawsys(SYS_mkdirat, AT_FDCWD, m->target, m->mode), STK_STEP_MKDIR, i);
            break;
        case STK_MOUNT_BIND: {
            if (m->flags & STK_MOUNT_F_DIR) {
                CHECK_EXISTS_OK(rawsys(SYS_mkdirat, AT_FDCWD, m->target, 0755), STK_STEP_MKDIR, i);
            } else {
                CHECK(make_file_target(m->target), STK_STEP_MKDIR, i);
            }
            unsigned long flags = MS_BIND | ((m->flags & STK_MOUNT_F_RECURSIVE) ? MS_REC : 0);
            CHECK(raw_mount(m->source, m->target, NULL, flags, NULL), STK_STEP_BIND, i);
            /* Every bind gets nosuid; non-device binds get nodev; read-only where asked. The
             * flags the source mount has locked (nosuid, nodev, noexec, atime) must be kept or the
             * kernel refuses the remount inside a user namespace. */
            if (m->flags & STK_MOUNT_F_NO_REMOUNT) break;
            unsigned long rf = MS_BIND | MS_REMOUNT | MS_NOSUID | (unsigned long)m->locked_flags;
            if (!(m->flags & STK_MOUNT_F_DEVICE)) rf |= MS_NODEV;
            if (m->flags & STK_MOUNT_F_READONLY) rf |= MS_RDONLY;
            CHECK(raw_mount(NULL, m->target, NULL, rf, NULL), STK_STEP_REMOUNT, i);
            break;
        }
        case STK_MOUNT_TMPFS:
            CHECK_EXISTS_OK(rawsys(SYS_mkdirat, AT_FDCWD, m->target, 0755), STK_STEP_MKDIR, i);
            CHECK(raw_mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV, m->data),
                  STK_STEP_TMPFS, i);
            break;
        case STK_MOUNT_PROC:
            CHECK_EXISTS_OK(rawsys(SYS_mkdirat, AT_FDCWD, m->target, 0555), STK_STEP_MKDIR, i);
            CHECK(raw_mount("proc", m->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, m->data),
                  STK_STEP_PROC, i);
            break;
        case STK_MOUNT_FILE: {
            long fd = rawsys(SYS_openat, AT_FDCWD, m->target,
                              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, m->mode);
            CHECK(fd, STK_STEP_FILE, i);
            uint64_t off = 0;
            while (off < m->data_len) {
                long n = rawsys(SYS_write, fd, m->data + off, m->data_len - off);
                if (n == -EINTR) continue;
                CHECK(n, STK_STEP_FILE, i);
                off += (uint64_t)n;
            }
            rawsys(SYS_close, fd);
            break;
        }
        case STK_MOUNT_SYMLINK:
            CHECK_EXISTS_OK(rawsys(SYS_symlinkat, m->source, AT_FDCWD, m->target), STK_STEP_SYMLINK, i);
            break;
        default:
            child_fail(errfd, STK_STEP_MKDIR, EINVAL, i);
        }
    }
}

/* [child-safe] Bring lo up in a fresh network namespace. The ifreq lives on this stack. */
static void loopback_up(int errfd) {
    long sock = rawsys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(sock, STK_STEP_NETWORK, -1);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr); /* memset is a plain loop in libc: no locks, no allocation */
    ifr.ifr_name[0] = 'l';
    ifr.ifr_name[1] = 'o';
    ifr.ifr_flags = IFF_UP | IFF_RUNNING;
    CHECK(rawsys(SYS_ioctl, sock, SIOCSIFFLAGS, &ifr), STK_STEP_NETWORK, -1);
    rawsys(SYS_close, sock);
}

/* [child-safe] Move stdio and the extra fds into place: child fd i gets src[i]. A source below
 * the number of targets that is not its own target is first moved above them, so a later dup
 * cannot clobber it. */
static void setup_fds(const struct stk_spawn_spec *s, int *errfdp, int *execfdp) {
    int n = 3 + (s->extra_fd_count > 0 ? (s->extra_fd_count > 5 ? 5 : s->extra_fd_count) : 0);
    int errfd = *errfdp;
    /* The error pipe and the image to exec must survive the shuffle: move them above the targets. */
    if (errfd < n) {
        long moved = rawsys(SYS_fcntl, errfd, F_DUPFD_CLOEXEC, n);
        CHECK(moved, STK_STEP_STDIO, -1);
        errfd = *errfdp = (int)moved;
    }
    if (*execfdp >= 0 && *execfdp < n) {
        long moved = rawsys(SYS_fcntl, *execfdp, F_DUPFD_CLOEXEC, n);
        CHECK(moved, STK_STEP_STDIO, -1);
        *execfdp = (int)moved;
    }
    int src[8];
    for (int i = 0; i < 3; i++) src[i] = s->stdio[i];
    for (int i = 3; i < n; i++) src[i] = s->extra_fds[i - 3];
    for (int i = 0; i < n; i++) {
        if (src[i] >= 0 && src[i] < n && src[i] != i) {
            long moved = rawsys(SYS_fcntl, src[i], F_DUPFD_CLOEXEC, n);
            CHECK(moved, STK_STEP_STDIO, i);
            for (int j = i + 1; j < n; j++)
                if (src[j] == src[i]) src[j] = (int)moved;
            src[i] = (int)moved;
        }
    }
    for (int i = 0; i < n; i++) {
        if (src[i] < 0) continue;
        if (src[i] == i) {
            CHECK(rawsys(SYS_fcntl, i, F_SETFD, 0), STK_STEP_STDIO, i);
        } else {
            CHECK(rawsys(SYS_dup3, src[i], i, 0), STK_STEP_STDIO, i);
        }
    }
}

/* [child-safe] */
static void apply_landlock(const struct stk_spawn_spec *s, int errfd) {
    struct landlock_ruleset_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = s->landlock_handled_fs;
    size_t size = offsetof(struct landlock_ruleset_attr, handled_access_fs) + sizeof(uint64_t);
#ifdef LANDLOCK_ACCESS_NET_BIND_TCP
    if (s->landlock_abi >= 4) {
        attr.handled_access_net = s->landlock_handled_net;
        size = offsetof(struct landlock_ruleset_attr, handled_access_net) + sizeof(uint64_t);
    }
#endif
    /* ABI 6 adds `scoped` after handled_access_net. Older headers lack the field; write it
     * through a byte offset so the shim builds on them too. */
    unsigned char raw[32];
    memset(raw, 0, sizeof raw);
    memcpy(raw, &attr, size);
    if (s->landlock_abi >= 6) {
        memcpy(raw + 16, &s->landlock_scoped, sizeof(uint64_t));
        size = 24;
    }
    long rfd = rawsys(SYS_landlock_create_ruleset, raw, size, 0);
    CHECK(rfd, STK_STEP_LANDLOCK, -1);
    for (int i = 0; i < s->landlock_rule_count; i++) {
        const struct stk_landlock_rule *r = &s->landlock_rules[i];
        long pfd = rawsys(SYS_openat, AT_FDCWD, r->path, O_PATH | O_CLOEXEC);
        CHECK(pfd, STK_STEP_LANDLOCK, i);
        struct landlock_path_beneath_attr pb;
        memset(&pb, 0, sizeof pb);
        pb.allowed_access = r->access;
        pb.parent_fd = (int32_t)pfd;
        CHECK(rawsys(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0),
              STK_STEP_LANDLOCK, i);
        rawsys(SYS_close, pfd);
    }
    CHECK(rawsys(SYS_landlock_restrict_self, rfd, 0), STK_STEP_LANDLOCK, -1);
    rawsys(SYS_close, rfd);
}

/* [child-safe] The order follows DESIGN.md, "The spawn path". */
static void __attribute__((noreturn))
child_main(const struct stk_spawn_spec *s, int gofd, int errfd) {
    /* 1. Die with the parent, then wait for its go (maps written, cgroup joined). A parent that
     *    died before PDEATHSIG was set closed the go pipe: read returns 0 and we leave. */
    if (s->pdeathsig > 0)
        CHECK(rawsys(SYS_prctl, PR_SET_PDEATHSIG, s->pdeathsig, 0, 0, 0), STK_STEP_PDEATHSIG, -1);
    {
        char go = 0;
        long n;
        do {
            n = rawsys(SYS_read, gofd, &go, 1);
        } while (n == -EINTR);
        if (n != 1) child_fail(errfd, STK_STEP_WAIT_GO, n < 0 ? (int)-n : EPIPE, -1);
        rawsys(SYS_close, gofd);
    }

    /* 2. Signals: default dispositions first (the parent's handlers must never run here: this
     *    child shares the parent's memory until exec), then the empty mask. All signals were
     *    blocked by the parent across the clone. */
    {
        struct {
            void *handler;
            unsigned long flags;
            void *restorer;
            uint64_t mask;
        } dfl = {SIG_DFL, 0, NULL, 0};
        for (int sig = 1; sig < 65; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP) continue;
            (void)rawsys(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
        }
        uint64_t empty = 0;
        CHECK(rawsys(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof empty), STK_STEP_SIGNALS,
              -1);
    }

    /* 3. Session and process group. */
    if (s->new_session) CHECK(rawsys(SYS_setsid), STK_STEP_SETSID, -1);
    else if (s->new_process_group) CHECK(rawsys(SYS_setpgid, 0, 0), STK_STEP_SETPGID, -1);

    /* 4. A cgroup namespace rooted at the cgroup the parent just moved us into. */
    if (s->namespaces & STK_NS_CGROUP)
        CHECK(rawsys(SYS_unshare, CLONE_NEWCGROUP), STK_STEP_CGROUP_NS, -1);

    /* 5. Inodes we create must belong to mapped ids (EOVERFLOW otherwise). */
    if (s->namespaces & STK_NS_USER) {
        rawsys(SYS_setfsgid, s->inside_gid);
        rawsys(SYS_setfsuid, s->inside_uid);
    }

    if ((s->namespaces & STK_NS_NET) && s->net_ns_fd < 0) loopback_up(errfd);

    /* 6. The root. */
    if (s->new_root) {
        CHECK(raw_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), STK_STEP_MOUNT_PRIVATE, -1);
        CHECK(raw_mount("tmpfs", s->new_root, "tmpfs", MS_NOSUID | MS_NODEV, s->new_root_options),
              STK_STEP_ROOT_TMPFS, -1);
        apply_mounts(s, errfd);
        CHECK(rawsys(SYS_chdir, s->new_root), STK_STEP_PIVOT_ROOT, -1);
        CHECK(rawsys(SYS_pivot_root, ".", "."), STK_STEP_PIVOT_ROOT, -1);
        CHECK(rawsys(SYS_umount2, ".", MNT_DETACH), STK_STEP_DETACH_OLD_ROOT, -1);
        CHECK(rawsys(SYS_chdir, "/"), STK_STEP_DETACH_OLD_ROOT, -1);
        if (s->root_readonly)
            CHECK(raw_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                            NULL),
                  STK_STEP_ROOT_READONLY, -1);
    } else if (s->namespaces & STK_NS_MOUNT) {
        CHECK(raw_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), STK_STEP_MOUNT_PRIVATE, -1);
        apply_mounts(s, errfd);
    }

    /* No nested user namespaces, whatever the seccomp policy: the limit of this user namespace
     * (ours alone) goes to 0 while we still hold CAP_SYS_RESOURCE in it. */
    if (s->disable_nested_userns && (s->namespaces & STK_NS_USER)) {
        long fd = rawsys(SYS_openat, AT_FDCWD, "/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
        CHECK(fd, STK_STEP_DISABLE_USERNS, -1);
        CHECK(rawsys(SYS_write, fd, "0", 1), STK_STEP_DISABLE_USERNS, -1);
        rawsys(SYS_close, fd);
    }

    if (s->hostname && (s->namespaces & STK_NS_UTS)) {
        size_t len = strlen(s->hostname);
        CHECK(rawsys(SYS_sethostname, s->hostname, len), STK_STEP_HOSTNAME, -1);
    }

    /* 8. Identity (raw syscalls: glibc's setres*id broadcast to every thread). Dropping the bounding
     *    set needs CAP_SETPCAP, which we keep until capset: the inside root is unmapped, so moving
     *    to a non-root id does not clear capabilities on its own. */
    if (s->drop_caps) {
        for (int cap = 0; cap <= s->last_cap; cap++) {
            long rc = rawsys(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (rc < 0 && rc != -EINVAL) child_fail(errfd, STK_STEP_CAP_BOUNDING, (int)-rc, cap);
        }
    }
    if (s->set_identity) {
        CHECK(rawsys(SYS_setgroups, 0, NULL), STK_STEP_SETGROUPS, -1);
        CHECK(rawsys(SYS_setresgid, s->inside_gid, s->inside_gid, s->inside_gid), STK_STEP_SETGID,
              -1);
        CHECK(rawsys(SYS_setresuid, s->inside_uid, s->inside_uid, s->inside_uid), STK_STEP_SETUID,
              -1);
    }
    if (s->drop_caps) {
        long rc = rawsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (rc < 0 && rc != -EINVAL) child_fail(errfd, STK_STEP_CAP_AMBIENT, (int)-rc, -1);
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof data);
        CHECK(rawsys(SYS_capset, &hdr, data), STK_STEP_CAPSET, -1);
    }
    if (s->no_new_privs)
        CHECK(rawsys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), STK_STEP_NO_NEW_PRIVS, -1);

    if (s->cwd) CHECK(rawsys(SYS_chdir, s->cwd), STK_STEP_CHDIR, -1);

    /* 9. fds: stdio and extra fds into place, everything else closes at exec. The error pipe is
     *    O_CLOEXEC: it stays usable until a successful exec closes it, which the parent sees as EOF. */
    int exec_fd = s->exec_fd;
    setup_fds(s, &errfd, &exec_fd);
    if (s->close_fds) {
        unsigned first = 3 + (unsigned)(s->extra_fd_count > 0 ? (s->extra_fd_count > 5 ? 5 : s->extra_fd_count) : 0);
        CHECK(rawsys(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC), STK_STEP_CLOSE_FDS, -1);
    }

    /* 10. Landlock, then the resource limits (after every fd the setup opens: a RLIMIT_NOFILE below
     *     the parent's fd count would otherwise fail those opens), then seccomp last. */
    if (s->landlock_handled_fs) apply_landlock(s, errfd);
    for (int i = 0; i < s->rlimit_count; i++) {
        struct rlimit lim = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
        CHECK(rawsys(SYS_prlimit64, 0, s->rlimits[i].resource, &lim, NULL), STK_STEP_RLIMIT, i);
    }
    if (s->seccomp_filter && s->seccomp_filter_len > 0) {
        struct sock_fprog prog = {.len = (unsigned short)s->seccomp_filter_len,
                                  .filter = (struct sock_filter *)s->seccomp_filter};
        CHECK(rawsys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->seccomp_flags, &prog), STK_STEP_SECCOMP,
              -1);
    }

    /* 11. exec. */
    if (exec_fd >= 0) {
        long rc = rawsys(SYS_execveat, exec_fd, "", s->argv, s->envp, AT_EMPTY_PATH);
        child_fail(errfd, STK_STEP_EXEC, (int)-rc, -1);
    }
    int err = ENOENT, failed = -1;
    for (int i = 0; i < s->exec_path_count; i++) {
        long rc = rawsys(SYS_execve, s->exec_paths[i], s->argv, s->envp);
        /* Keep looking only while the file is missing here; any other error is the answer. */
        if (rc != -ENOENT && rc != -ENOTDIR) {
            err = (int)-rc;
            failed = i;
            break;
        }
    }
    child_fail(errfd, STK_STEP_EXEC, err, failed);
}

/* What the child starts from: all in the parent's stack frame, which stays put until the
 * child has exec'd or been reaped. */
struct stk_child_args {
    const struct stk_spawn_spec *spec;
    int gofd;
    int errfd;
    int parent_go;   /* the parent's ends, which the child's copy of the fd table must not keep */
    int parent_err;
};

/* [child-safe] Entry of the CLONE_VM child, on its own stack. */
static int child_entry(void *arg) {
    const struct stk_child_args *a = arg;
    /* Without the write end of the go pipe, a parent that dies before the go is an EOF here. */
    rawsys(SYS_close, a->parent_go);
    rawsys(SYS_close, a->parent_err);
    child_main(a->spec, a->gofd, a->errfd);
}

#if defined(__x86_64__)
/* [parent] clone3 with CLONE_VM: the child starts on the new stack right after the syscall
 * instruction, so it must not return into this function's frame. The trampoline calls the entry
 * directly (fn and arg ride in callee-saved registers, which the kernel preserves) and exits if it
 * ever returns. Returns the pid, or -errno. */
static long clone3_vm(struct clone_args *args, int (*fn)(void *), void *arg) {
    long ret;
    register void *r12 __asm__("r12") = (void *)fn;
    register void *r13 __asm__("r13") = arg;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%rax, %%rdi\n\t"
                     "mov $60, %%eax\n\t" /* SYS_exit */
                     "syscall\n\t"
                     "hlt\n\t"
                     "1:\n\t"
                     : "=a"(ret)
                     : "0"((long)SYS_clone3), "D"(args), "S"((long)sizeof(*args)), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return ret;
}
#endif

/* ---------------------------------------------------------------------------------------------
 * Parent side. [parent]
 * ------------------------------------------------------------------------------------------- */

static void set_detail(struct stk_spawn_result *r, const char *text) {
    if (!text) return;
    size_t n = strlen(text);
    if (n >= sizeof r->detail) n = sizeof r->detail - 1;
    memcpy(r->detail, text, n);
    r->detail[n] = 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text) {
    char path[64];
    int n = snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int saved = errno;
    close(fd);
    if (w != (ssize_t)len) {
        errno = w < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

static long monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Kill and reap a child that failed or got stuck; pidfd stays open for the caller to close. */
static void kill_and_reap(pid_t pid, int pidfd) {
    if (pidfd >= 0) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    else kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
}

static int clone_flags_for(int ns) {
    int f = 0;
    if (ns & STK_NS_USER) f |= CLONE_NEWUSER;
    if (ns & STK_NS_PID) f |= CLONE_NEWPID;
    if (ns & STK_NS_MOUNT) f |= CLONE_NEWNS;
    if (ns & STK_NS_NET) f |= CLONE_NEWNET;
    if (ns & STK_NS_IPC) f |= CLONE_NEWIPC;
    if (ns & STK_NS_UTS) f |= CLONE_NEWUTS;
    /* The cgroup namespace is made by the child after it joined its cgroup (see child_main). */
    return f;
}

int stk_spawn(const struct stk_spawn_spec *spec, struct stk_spawn_result *r) {
    memset(r, 0, sizeof *r);
    r->pid = -1;
    r->pidfd = -1;
    r->index = -1;

    int go[2], errp[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        r->step = STK_STEP_PIPE;
        r->err = errno;
        return -1;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        r->step = STK_STEP_PIPE;
        r->err = errno;
        close(go[0]);
        close(go[1]);
        return -1;
    }

    int flags = clone_flags_for(spec->namespaces);
    int pidfd = -1;
    long pid = -1;
    /* A network namespace made ahead of time: join it on this thread for the clone only. */
    int joined_net = 0;
    if (spec->net_ns_fd >= 0 && (spec->namespaces & STK_NS_NET)) {
        if (setns(spec->net_ns_fd, CLONE_NEWNET) < 0) {
            r->step = STK_STEP_CLONE;
            r->err = errno;
            close(go[0]); close(go[1]); close(errp[0]); close(errp[1]);
            return -1;
        }
        flags &= ~CLONE_NEWNET;
        joined_net = 1;
    }
    struct stk_child_args cargs = {.spec = spec, .gofd = go[0], .errfd = errp[1], .parent_go = go[1], .parent_err = errp[0]};
    int saved = 0;
    void *stack = NULL;
    size_t stack_size = 0;
#if STK_CLONE_VM
    /* CLONE_VM: no copy of the parent's page tables, so the cost of a spawn does not grow with the
     * daemon's memory (measured: 0.9 ms from a small parent, 5.3 ms once it has 50 MB touched,
     * with fork semantics). The child gets a stack of its own, all signals stay blocked across
     * the clone (it resets every disposition before it unblocks them, so no handler of ours ever
     * runs in it), and it makes only raw syscalls that write nothing of ours. */
    stack_size = 256 * 1024;
    stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        r->step = STK_STEP_CLONE;
        r->err = errno;
        if (joined_net && setns(spec->restore_net_ns_fd, CLONE_NEWNET) < 0) abort();
        close(go[0]); close(go[1]); close(errp[0]); close(errp[1]);
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
#if defined(__x86_64__)
    if (spec->use_clone3) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)flags | CLONE_VM | CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        args.stack = (uint64_t)(uintptr_t)stack;
        args.stack_size = stack_size;
        pid = clone3_vm(&args, child_entry, &cargs);
        if (pid >= 0) r->used_clone3 = 1;
        else saved = (int)-pid;
    }
    if (!spec->use_clone3 || saved == ENOSYS)
#endif
    {
        /* glibc's clone calls the entry on the new stack; with CLONE_PIDFD the pidfd is stored
         * through parent_tid. */
        pid = clone(child_entry, (char *)stack + stack_size, flags | CLONE_VM | CLONE_PIDFD | SIGCHLD,
                    &cargs, &pidfd);
        saved = pid < 0 ? errno : 0;
        r->used_clone3 = 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#else
    if (spec->use_clone3) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)flags | CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) r->used_clone3 = 1;
    }
    if (!spec->use_clone3 || (pid < 0 && errno == ENOSYS)) {
        pid = syscall(SYS_clone, (unsigned long)flags | CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
        r->used_clone3 = 0;
    }
    if (pid == 0) {
        syscall(SYS_close, go[1]);
        syscall(SYS_close, errp[0]);
        child_main(spec, go[0], errp[1]);
    }
    saved = pid < 0 ? errno : 0;
#endif
    /* Back to our own network namespace before anything else: a thread left in a sandbox's
     * namespace would hand it to later sandboxes that share the host's. */
    if (joined_net && setns(spec->restore_net_ns_fd, CLONE_NEWNET) < 0) abort();
    close(go[0]);
    close(errp[1]);
    if (pid < 0) {
        r->step = STK_STEP_CLONE;
        r->err = saved;
        close(go[1]);
        close(errp[0]);
        if (stack) munmap(stack, stack_size);
        return -1;
    }
    r->pid = (int32_t)pid;
    r->pidfd = pidfd;

    /* Identity maps. We are privileged in the parent namespace, so setgroups stays allowed and
     * the child can clear its supplementary groups (host root's group 0 must not follow it). */
    if (spec->namespaces & STK_NS_USER) {
        char map[64];
        snprintf(map, sizeof map, "%u %u 1\n", spec->inside_uid, spec->host_uid);
        if (write_proc_file((pid_t)pid, "uid_map", map) < 0) {
            r->step = STK_STEP_UID_MAP;
            goto fail_errno;
        }
        snprintf(map, sizeof map, "%u %u 1\n", spec->inside_gid, spec->host_gid);
        if (write_proc_file((pid_t)pid, "gid_map", map) < 0) {
            r->step = STK_STEP_GID_MAP;
            goto fail_errno;
        }
    }
    for (int i = 0; i < spec->cgroup_proc_fd_count; i++) {
        char num[24];
        int n = snprintf(num, sizeof num, "%ld\n", pid);
        if (write(spec->cgroup_proc_fds[i], num, (size_t)n) != n) {
            r->step = STK_STEP_CGROUP;
            r->index = i;
            goto fail_errno;
        }
    }
    {
        char one = 1;
        ssize_t w;
        do {
            w = write(go[1], &one, 1);
        } while (w < 0 && errno == EINTR);
        if (w != 1) {
            r->step = STK_STEP_GO;
            goto fail_errno;
        }
        close(go[1]);
        go[1] = -1;
    }

    /* EOF on the error pipe: exec happened. A record: the step that failed. */
    {
        struct stk_child_error rec;
        size_t got = 0;
        long deadline = spec->exec_timeout_ms > 0 ? monotonic_ms() + spec->exec_timeout_ms : -1;
        for (;;) {
            int timeout = -1;
            if (deadline >= 0) {
                long left = deadline - monotonic_ms();
                timeout = left < 0 ? 0 : (int)left;
            }
            struct pollfd pfd = {.fd = errp[0], .events = POLLIN};
            int pr = poll(&pfd, 1, timeout);
            if (pr < 0 && errno == EINTR) continue;
            if (pr == 0) {
                r->step = STK_STEP_WAIT_EXEC;
                r->err = ETIMEDOUT;
                goto fail;
            }
            ssize_t n = read(errp[0], (char *)&rec + got, sizeof rec - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
            if (got == sizeof rec) break;
        }
        close(errp[0]);
        errp[0] = -1;
        if (got == sizeof rec) {
            r->step = rec.step;
            r->err = rec.err;
            r->index = rec.index;
            goto fail;
        }
        if (got != 0) {
            r->step = STK_STEP_EXEC;
            r->err = EPROTO;
            goto fail;
        }
    }
    /* EOF: the child exec'd and left our memory; its stack is ours again. */
    if (stack) munmap(stack, stack_size);
    return 0;

fail_errno:
    r->err = errno;
fail:
    kill_and_reap((pid_t)pid, pidfd);
    /* Reaped: the child no longer runs on its stack. */
    if (stack) munmap(stack, stack_size);
    if (go[1] >= 0) close(go[1]);
    if (errp[0] >= 0) close(errp[0]);
    if (pidfd >= 0) close(pidfd);
    r->pidfd = -1;
    if (r->index >= 0 && r->step >= STK_STEP_MKDIR && r->step <= STK_STEP_SYMLINK &&
        r->index < spec->mount_count) {
        const struct stk_mount *m = &spec->mounts[r->index];
        set_detail(r, (r->step == STK_STEP_BIND && m->source) ? m->source : m->target);
    } else if (r->step == STK_STEP_EXEC && r->index >= 0 && r->index < spec->exec_path_count) {
        set_detail(r, spec->exec_paths[r->index]);
    } else if (r->step == STK_STEP_EXEC && spec->exec_path_count > 0 && spec->exec_fd < 0) {
        set_detail(r, spec->exec_paths[0]);
    } else if (r->step == STK_STEP_CHDIR) {
        set_detail(r, spec->cwd);
    } else if (r->step == STK_STEP_LANDLOCK && r->index >= 0 && r->index < spec->landlock_rule_count) {
        set_detail(r, spec->landlock_rules[r->index].path);
    }
    return -1;
}
