/*
 * helpers.c — small system-call helpers and constants for Swift. All [parent]: none of these is
 * called between clone and exec.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stockade.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const int STK_RLIMIT_AS = RLIMIT_AS, STK_RLIMIT_CPU = RLIMIT_CPU, STK_RLIMIT_FSIZE = RLIMIT_FSIZE,
          STK_RLIMIT_NOFILE = RLIMIT_NOFILE, STK_RLIMIT_NPROC = RLIMIT_NPROC,
          STK_RLIMIT_CORE = RLIMIT_CORE, STK_RLIMIT_DATA = RLIMIT_DATA,
          STK_RLIMIT_STACK = RLIMIT_STACK, STK_RLIMIT_MEMLOCK = RLIMIT_MEMLOCK;
const unsigned int STK_MFD_CLOEXEC = MFD_CLOEXEC, STK_MFD_ALLOW_SEALING = MFD_ALLOW_SEALING;
const int STK_F_SEAL_SEAL = F_SEAL_SEAL, STK_F_SEAL_SHRINK = F_SEAL_SHRINK,
          STK_F_SEAL_GROW = F_SEAL_GROW, STK_F_SEAL_WRITE = F_SEAL_WRITE;
const unsigned long STK_MS_RDONLY = MS_RDONLY, STK_MS_NOSUID = MS_NOSUID, STK_MS_NODEV = MS_NODEV,
                    STK_MS_NOEXEC = MS_NOEXEC, STK_MS_NOATIME = MS_NOATIME,
                    STK_MS_NODIRATIME = MS_NODIRATIME, STK_MS_RELATIME = MS_RELATIME;
const int STK_O_PATH = O_PATH;
const int STK_RESOLVE_BENEATH = RESOLVE_BENEATH, STK_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS,
          STK_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS, STK_RESOLVE_NO_XDEV = RESOLVE_NO_XDEV;
const uint64_t STK_LANDLOCK_ACCESS_FS_ALL_V1 = (1ULL << 13) - 1;
const uint64_t STK_LANDLOCK_ACCESS_FS_READ =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
const uint64_t STK_LANDLOCK_ACCESS_FS_WRITE_V1 = ((1ULL << 13) - 1) & ~STK_LANDLOCK_ACCESS_FS_READ;

const char *stk_step_name(int step) {
    switch (step) {
    case STK_STEP_NONE: return "none";
    case STK_STEP_PIPE: return "pipe";
    case STK_STEP_CLONE: return "clone";
    case STK_STEP_UID_MAP: return "uid_map";
    case STK_STEP_GID_MAP: return "gid_map";
    case STK_STEP_CGROUP: return "cgroup";
    case STK_STEP_GO: return "go";
    case STK_STEP_WAIT_EXEC: return "wait-exec";
    case STK_STEP_WAIT_GO: return "wait-go";
    case STK_STEP_SIGNALS: return "signals";
    case STK_STEP_SETSID: return "setsid";
    case STK_STEP_PDEATHSIG: return "pdeathsig";
    case STK_STEP_CGROUP_NS: return "cgroup-namespace";
    case STK_STEP_SETFSID: return "setfsid";
    case STK_STEP_MOUNT_PRIVATE: return "mount-private";
    case STK_STEP_ROOT_TMPFS: return "root-tmpfs";
    case STK_STEP_MKDIR: return "mkdir";
    case STK_STEP_BIND: return "bind";
    case STK_STEP_REMOUNT: return "remount";
    case STK_STEP_TMPFS: return "tmpfs";
    case STK_STEP_PROC: return "proc";
    case STK_STEP_FILE: return "file";
    case STK_STEP_SYMLINK: return "symlink";
    case STK_STEP_PIVOT_ROOT: return "pivot_root";
    case STK_STEP_DETACH_OLD_ROOT: return "detach-old-root";
    case STK_STEP_ROOT_READONLY: return "root-readonly";
    case STK_STEP_HOSTNAME: return "hostname";
    case STK_STEP_NETWORK: return "loopback";
    case STK_STEP_RLIMIT: return "rlimit";
    case STK_STEP_SETGROUPS: return "setgroups";
    case STK_STEP_SETGID: return "setgid";
    case STK_STEP_SETUID: return "setuid";
    case STK_STEP_CAP_BOUNDING: return "cap-bounding-set";
    case STK_STEP_CAP_AMBIENT: return "cap-ambient";
    case STK_STEP_CAPSET: return "capset";
    case STK_STEP_NO_NEW_PRIVS: return "no_new_privs";
    case STK_STEP_CHDIR: return "chdir";
    case STK_STEP_STDIO: return "stdio";
    case STK_STEP_CLOSE_FDS: return "close-fds";
    case STK_STEP_LANDLOCK: return "landlock";
    case STK_STEP_SECCOMP: return "seccomp";
    case STK_STEP_EXEC: return "exec";
    case STK_STEP_SETPGID: return "setpgid";
    case STK_STEP_DUMPABLE: return "dumpable";
    case STK_STEP_DISABLE_USERNS: return "disable-nested-userns";
    default: return "unknown";
    }
}

int stk_waitid_pidfd(int pidfd, int options, int *pid_out, int *code_out, int *status_out,
                     struct rusage *ru) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* The raw waitid takes a fifth argument, the rusage of the reaped child. */
    long rc = syscall(SYS_waitid, P_PIDFD, pidfd, &si, options, ru);
    if (rc < 0) return -1;
    *pid_out = si.si_pid;
    *code_out = si.si_code;
    *status_out = si.si_status;
    return 0;
}

int stk_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int stk_memfd_create(const char *name, unsigned int flags) { return memfd_create(name, flags); }
int stk_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int stk_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}
int stk_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}
int stk_landlock_abi_version(void) {
    return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}
int stk_seccomp_available(void) {
    /* PR_GET_SECCOMP answers 0 when the kernel has seccomp and this thread is unfiltered. */
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 ? 1 : 0;
}
int stk_last_cap(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 40;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 40;
    buf[n] = 0;
    int v = 0;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (buf[i] - '0');
    return v > 0 ? v : 40;
}
int stk_set_cloexec(int fd, int on) {
    int f = fcntl(fd, F_GETFD);
    if (f < 0) return -1;
    return fcntl(fd, F_SETFD, on ? (f | FD_CLOEXEC) : (f & ~FD_CLOEXEC));
}
int stk_set_nonblock(int fd, int on) {
    int f = fcntl(fd, F_GETFL);
    if (f < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (f | O_NONBLOCK) : (f & ~O_NONBLOCK));
}
int stk_fcntl_add_seals(int fd, int seals) { return fcntl(fd, F_ADD_SEALS, seals); }
int stk_execveat_supported(void) {
#ifdef SYS_execveat
    return 1;
#else
    return 0;
#endif
}
int stk_openat2_beneath(int dirfd, const char *path, int flags, int mode, int resolve_flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (uint64_t)mode : 0;
    how.resolve = (uint64_t)resolve_flags;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
int stk_prctl_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int stk_sig_block(int sig, int block) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
int stk_signalfd_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}
int stk_clone3_available(void) {
    /* A NULL argument with size 0: EINVAL where clone3 exists, ENOSYS where it does not. */
    long rc = syscall(435 /* SYS_clone3 */, NULL, 0);
    return (rc < 0 && errno == ENOSYS) ? 0 : 1;
}
int stk_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0); }

int stk_netns_current(void) { return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC); }

int stk_netns_create(int restore_fd) {
    if (unshare(CLONE_NEWNET) < 0) return -1;
    int saved = 0;
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) saved = errno;
    if (fd >= 0) {
        int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strcpy(ifr.ifr_name, "lo");
        ifr.ifr_flags = IFF_UP | IFF_RUNNING;
        if (sock < 0 || ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
        if (sock >= 0) close(sock);
    }
    /* Never leave this thread in the new namespace. */
    if (setns(restore_fd, CLONE_NEWNET) < 0) abort();
    if (fd < 0) errno = saved;
    return fd;
}
int stk_random_bytes(void *buf, unsigned long len) {
    return (int)syscall(SYS_getrandom, buf, len, 0);
}

int stk_socketpair_seqpacket(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

int stk_send_fds(int sock, const void *buf, unsigned long len, const int *fds, int nfds) {
    if (nfds < 0 || nfds > 16) { errno = EINVAL; return -1; }
    char control[CMSG_SPACE(sizeof(int) * 16)];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    return (int)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

int stk_prlimit(int pid, int resource, uint64_t soft, uint64_t hard) {
    struct rlimit lim = {.rlim_cur = soft, .rlim_max = hard};
    return prlimit(pid, resource, &lim, NULL);
}
