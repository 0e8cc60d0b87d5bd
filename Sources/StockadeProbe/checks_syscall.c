/*
 * checks_syscall.c — syscall.<name>: each system call the default seccomp policy denies.
 *
 * PASS criteria, the same for every entry: the call fails with the filter's errno (EPERM; ENOSYS
 * for clone3), or with ENOSYS where this kernel does not have the call at all. FAIL: the call
 * succeeded, or failed with another errno — the kernel's own argument checks answered, so the
 * call reached the kernel: nothing filtered it.
 *
 * Every call is made with arguments the kernel rejects (unknown operations, invalid flags, bad
 * file descriptors, paths that do not exist, pids above pid_max), so it is harmless even outside
 * a sandbox as root. The few that can succeed harmlessly (adjtimex with modes 0 only reads the
 * clock state; modify_ldt reads; personality is restored; fanotify_init's fd is closed; unshare
 * and clone happen in this check's throwaway process) undo what they did.
 *
 * Some calls are refused by the kernel itself with EPERM before it looks at the arguments when the
 * caller lacks a capability (init_module, kexec_load, reboot, acct, pivot_root, ...). For those the
 * probe cannot tell the filter's EPERM from the kernel's: they PASS with seccomp off too, and their
 * line says so ("EPERM is also the kernel's own answer without capabilities").
 */
#include "probe.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NO_SUCH_PID 0x3ffffff0L /* above any pid_max */
#define NO_SUCH_PATH "/nonexistent-stockade-probe/x"

struct sc_entry {
    long (*call)(void);
    int expect;           /* the filter's errno */
    bool kernel_eperm;    /* the kernel alone also answers EPERM here (no capability) */
    const char *what;     /* what is tried */
};

/* Calls returning an fd close it on success, keeping the return value. */
static long close_ok(long r) {
    if (r >= 0) {
        int e = errno;
        close((int)r);
        errno = e;
    }
    return r;
}

static long sc_keyctl(void) { return syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0); }
static long sc_add_key(void) { return syscall(SYS_add_key, "", "stockade-probe", NULL, 0, KEY_SPEC_THREAD_KEYRING); }
static long sc_request_key(void) { return syscall(SYS_request_key, "", "stockade-probe", NULL, 0); }
static long sc_bpf(void) { return close_ok(syscall(SYS_bpf, 0x7fff, NULL, 0)); }
static long sc_perf(void) { return close_ok(syscall(SYS_perf_event_open, NULL, 0, -1, -1, ~0UL)); }
static long sc_userfaultfd(void) { return close_ok(syscall(SYS_userfaultfd, 0x40000001L)); }
static long sc_init_module(void) { return syscall(SYS_init_module, NULL, 0, ""); }
static long sc_finit_module(void) { return syscall(SYS_finit_module, -1, "", 0); }
static long sc_delete_module(void) { return syscall(SYS_delete_module, "stockade_probe_no_such_module", O_NONBLOCK); }
static long sc_kexec_load(void) { return syscall(SYS_kexec_load, 0, 17, NULL, 0x8000UL); }
static long sc_kexec_file_load(void) { return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0x100UL); }
static long sc_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }
static long sc_swapon(void) { return syscall(SYS_swapon, NULL, 0x40000000); }
static long sc_swapoff(void) { return syscall(SYS_swapoff, NO_SUCH_PATH); }
static long sc_acct(void) { return syscall(SYS_acct, NO_SUCH_PATH); }
static long sc_settimeofday(void) {
    struct timeval tv = {0, 2000000}; /* invalid microseconds */
    return syscall(SYS_settimeofday, &tv, NULL);
}
static long sc_clock_settime(void) {
    struct timespec ts = {0, 0};
    return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts); /* not a settable clock */
}
static long sc_clock_adjtime(void) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    return syscall(SYS_clock_adjtime, 99, &tx); /* no such clock */
}
static long sc_adjtimex(void) {
    struct timex tx;
    memset(&tx, 0, sizeof tx); /* modes 0: read only */
    return syscall(SYS_adjtimex, &tx);
}
static long sc_syslog(void) { return syscall(SYS_syslog, 10, NULL, 0); /* SYSLOG_ACTION_SIZE_BUFFER */ }
static long sc_iopl(void) { return syscall(SYS_iopl, 4); }
static long sc_ioperm(void) { return syscall(SYS_ioperm, 65536UL, 1UL, 0); }
static long sc_quotactl(void) { return syscall(SYS_quotactl, (0x800004L << 8) | 0x7f, NULL, 0, NULL); }
static long sc_quotactl_fd(void) { return syscall(SYS_quotactl_fd, -1, (0x800004L << 8), 0, NULL); }
static long sc_name_to_handle_at(void) {
    struct {
        unsigned int bytes;
        int type;
        unsigned char h[8];
    } fh = {0, 0, {0}};
    int mnt = 0;
    return syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mnt, 0); /* 0 bytes: EOVERFLOW */
}
static long sc_open_by_handle_at(void) {
    struct {
        unsigned int bytes;
        int type;
        unsigned char h[8];
    } fh = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    return close_ok(syscall(SYS_open_by_handle_at, -1, &fh, O_RDONLY));
}
static long sc_io_uring_setup(void) {
    unsigned char params[120];
    memset(params, 0, sizeof params);
    return close_ok(syscall(SYS_io_uring_setup, 0, params)); /* 0 entries */
}
static long sc_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0); }
static long sc_io_uring_register(void) { return syscall(SYS_io_uring_register, -1, 0, NULL, 0); }
static long sc_ptrace(void) { return syscall(SYS_ptrace, 2 /* PEEKDATA */, NO_SUCH_PID, 0, 0); }
static long sc_process_vm_readv(void) { return syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 1); }
static long sc_process_vm_writev(void) { return syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 1); }
static long sc_process_madvise(void) { return syscall(SYS_process_madvise, -1, NULL, 0, 0, 1); }
static long sc_kcmp(void) { return syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0); }
static long sc_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1, 0, 1); }
static long sc_modify_ldt(void) {
    unsigned char buf[16];
    return syscall(SYS_modify_ldt, 0, buf, sizeof buf); /* read */
}
static long sc_personality(void) {
    long old = syscall(SYS_personality, 0xffffffffUL);
    long r = syscall(SYS_personality, 0x0040000UL); /* ADDR_NO_RANDOMIZE */
    if (r >= 0 && old >= 0) {
        int e = errno;
        syscall(SYS_personality, (unsigned long)old);
        errno = e;
    }
    return r;
}
static long sc_setns(void) { return syscall(SYS_setns, -1, 0); }
static long sc_unshare(void) { return syscall(SYS_unshare, CLONE_NEWUSER); /* in this throwaway process */ }
static long sc_clone(void) {
    long r = syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (r == 0) syscall(SYS_exit, 0);
    if (r > 0) waitpid((pid_t)r, NULL, __WALL);
    return r;
}
static long sc_clone3(void) { return syscall(SYS_clone3, NULL, 0); }
static long sc_mount(void) { return syscall(SYS_mount, "none", NO_SUCH_PATH, "tmpfs", 0, NULL); }
static long sc_umount2(void) { return syscall(SYS_umount2, NO_SUCH_PATH, 0x100); }
static long sc_mount_setattr(void) { return syscall(SYS_mount_setattr, -1, "", 0x1, NULL, 0); }
static long sc_move_mount(void) { return syscall(SYS_move_mount, -1, "", -1, "", 0x80000000UL); }
static long sc_open_tree(void) { return close_ok(syscall(SYS_open_tree, -1, "", 0)); }
static long sc_fsopen(void) { return close_ok(syscall(SYS_fsopen, "", 0)); }
static long sc_fsconfig(void) { return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0); }
static long sc_fsmount(void) { return close_ok(syscall(SYS_fsmount, -1, 0, 0)); }
static long sc_fspick(void) { return close_ok(syscall(SYS_fspick, -1, "", 0)); }
static long sc_pivot_root(void) { return syscall(SYS_pivot_root, NO_SUCH_PATH, NO_SUCH_PATH "/old"); }
static long sc_chroot(void) { return syscall(SYS_chroot, NO_SUCH_PATH); }
static long sc_fanotify_init(void) { return close_ok(syscall(SYS_fanotify_init, 0x200 /* FAN_REPORT_FID */, O_RDONLY)); }
static long sc_mbind(void) { return syscall(SYS_mbind, NULL, 0, 0, NULL, 0, 0); }
static long sc_set_mempolicy(void) { return syscall(SYS_set_mempolicy, 0, NULL, 0); /* MPOL_DEFAULT */ }
static long sc_migrate_pages(void) { return syscall(SYS_migrate_pages, NO_SUCH_PID, 0, NULL, NULL); }
static long sc_move_pages(void) { return syscall(SYS_move_pages, NO_SUCH_PID, 0, NULL, NULL, NULL, 0x7fff0000); }
static long sc_memfd_secret(void) { return close_ok(syscall(SYS_memfd_secret, 0xffff)); }
static int vhangup_child(void *arg) {
    (void)arg;
    /* A new session has no controlling terminal: even a privileged vhangup hangs up nothing. */
    if (setsid() < 0) return 254;
    if (syscall(SYS_vhangup) == 0) return 255;
    return errno & 0xff;
}
static long sc_vhangup(void) {
    bool to;
    int st = run_in_child(vhangup_child, NULL, 1500, &to);
    if (st < 0 || to || !WIFEXITED(st) || WEXITSTATUS(st) == 254) {
        errno = EIO; /* could not try */
        return -1;
    }
    if (WEXITSTATUS(st) == 255) return 0;
    errno = WEXITSTATUS(st);
    return -1;
}
static long sc_uselib(void) { return syscall(SYS_uselib, NO_SUCH_PATH); }
static long sc_ustat(void) {
    unsigned char buf[64];
    return syscall(SYS_ustat, 0, buf);
}
static long sc_sysfs(void) { return syscall(SYS_sysfs, 99); }
static long sc_tiocsti(void) {
    char c = 0;
    return syscall(SYS_ioctl, -1, 0x5412 /* TIOCSTI */, &c);
}
static long sc_tioclinux(void) {
    char c = 0;
    return syscall(SYS_ioctl, -1, 0x541C /* TIOCLINUX */, &c);
}

static void check_syscall(const struct probe_check *self) {
    const struct sc_entry *e = self->arg;
    errno = 0;
    long r = e->call();
    int err = errno;
    if (r >= 0) {
        fail("%s returned %ld: the call went through (not filtered)", e->what, r);
    } else if (err == e->expect) {
        pass("%s: %s%s", e->what, errname(err),
             e->kernel_eperm ? " (EPERM is also the kernel's own answer without capabilities)" : "");
    } else if (err == ENOSYS) {
        pass("%s: ENOSYS (this kernel does not have it)", e->what);
    } else {
        fail("%s: %s, not %s: the kernel's own checks answered, so the call was not filtered", e->what,
             errname(err), errname(e->expect));
    }
}

#define SC(name, fn, expect, keperm, what)                                                                \
    {"syscall." name, check_syscall, &(const struct sc_entry){fn, expect, keperm, what}}

const struct probe_check probe_checks_syscall[] = {
    SC("keyctl", sc_keyctl, EPERM, false, "keyctl(0x7fff: no such operation)"),
    SC("add_key", sc_add_key, EPERM, false, "add_key(type \"\")"),
    SC("request_key", sc_request_key, EPERM, false, "request_key(type \"\")"),
    SC("bpf", sc_bpf, EPERM, false, "bpf(0x7fff: no such command)"),
    SC("perf_event_open", sc_perf, EPERM, false, "perf_event_open(flags ~0)"),
    SC("userfaultfd", sc_userfaultfd, EPERM, false, "userfaultfd(UFFD_USER_MODE_ONLY|bad flag)"),
    SC("init_module", sc_init_module, EPERM, true, "init_module(NULL, 0)"),
    SC("finit_module", sc_finit_module, EPERM, true, "finit_module(-1)"),
    SC("delete_module", sc_delete_module, EPERM, true, "delete_module(no such module)"),
    SC("kexec_load", sc_kexec_load, EPERM, true, "kexec_load(17 segments, bad flag)"),
    SC("kexec_file_load", sc_kexec_file_load, EPERM, true, "kexec_file_load(-1, -1, bad flag)"),
    SC("reboot", sc_reboot, EPERM, true, "reboot(bad magic)"),
    SC("swapon", sc_swapon, EPERM, false, "swapon(NULL, bad flags)"),
    SC("swapoff", sc_swapoff, EPERM, true, "swapoff(no such path)"),
    SC("acct", sc_acct, EPERM, true, "acct(no such path)"),
    SC("settimeofday", sc_settimeofday, EPERM, false, "settimeofday(2000000 us)"),
    SC("clock_settime", sc_clock_settime, EPERM, false, "clock_settime(CLOCK_MONOTONIC)"),
    SC("clock_adjtime", sc_clock_adjtime, EPERM, false, "clock_adjtime(no such clock)"),
    SC("adjtimex", sc_adjtimex, EPERM, false, "adjtimex(modes 0: read only)"),
    SC("syslog", sc_syslog, EPERM, true, "syslog(SYSLOG_ACTION_SIZE_BUFFER)"),
    SC("iopl", sc_iopl, EPERM, false, "iopl(4)"),
    SC("ioperm", sc_ioperm, EPERM, false, "ioperm(65536, 1, off)"),
    SC("quotactl", sc_quotactl, EPERM, false, "quotactl(Q_GETFMT, quota type 127)"),
    SC("quotactl_fd", sc_quotactl_fd, EPERM, false, "quotactl_fd(-1)"),
    SC("name_to_handle_at", sc_name_to_handle_at, EPERM, false, "name_to_handle_at(/, 0-byte handle)"),
    SC("open_by_handle_at", sc_open_by_handle_at, EPERM, false, "open_by_handle_at(-1, inode 2)"),
    SC("io_uring_setup", sc_io_uring_setup, EPERM, false, "io_uring_setup(0 entries)"),
    SC("io_uring_enter", sc_io_uring_enter, EPERM, false, "io_uring_enter(-1)"),
    SC("io_uring_register", sc_io_uring_register, EPERM, false, "io_uring_register(-1)"),
    SC("ptrace", sc_ptrace, EPERM, false, "ptrace(PTRACE_PEEKDATA, no such pid)"),
    SC("process_vm_readv", sc_process_vm_readv, EPERM, false, "process_vm_readv(self, flags 1)"),
    SC("process_vm_writev", sc_process_vm_writev, EPERM, false, "process_vm_writev(self, flags 1)"),
    SC("process_madvise", sc_process_madvise, EPERM, false, "process_madvise(-1, flags 1)"),
    SC("kcmp", sc_kcmp, EPERM, false, "kcmp(self, self, type 99)"),
    SC("pidfd_getfd", sc_pidfd_getfd, EPERM, false, "pidfd_getfd(-1, 0, flags 1)"),
    SC("modify_ldt", sc_modify_ldt, EPERM, false, "modify_ldt(read)"),
    SC("personality", sc_personality, EPERM, false, "personality(ADDR_NO_RANDOMIZE)"),
    SC("setns", sc_setns, EPERM, false, "setns(-1, 0)"),
    SC("unshare", sc_unshare, EPERM, false, "unshare(CLONE_NEWUSER)"),
    SC("clone", sc_clone, EPERM, false, "clone(CLONE_NEWUSER|SIGCHLD)"),
    SC("clone3", sc_clone3, ENOSYS, false, "clone3(NULL, 0)"),
    SC("mount", sc_mount, EPERM, false, "mount(tmpfs on a path that does not exist)"),
    SC("umount2", sc_umount2, EPERM, false, "umount2(no such path, bad flag)"),
    SC("mount_setattr", sc_mount_setattr, EPERM, false, "mount_setattr(-1, bad flag)"),
    SC("move_mount", sc_move_mount, EPERM, true, "move_mount(-1, -1, bad flag)"),
    SC("open_tree", sc_open_tree, EPERM, false, "open_tree(-1, \"\")"),
    SC("fsopen", sc_fsopen, EPERM, true, "fsopen(\"\")"),
    SC("fsconfig", sc_fsconfig, EPERM, false, "fsconfig(-1)"),
    SC("fsmount", sc_fsmount, EPERM, true, "fsmount(-1)"),
    SC("fspick", sc_fspick, EPERM, true, "fspick(-1, \"\")"),
    SC("pivot_root", sc_pivot_root, EPERM, true, "pivot_root(no such paths)"),
    SC("chroot", sc_chroot, EPERM, false, "chroot(no such path)"),
    SC("fanotify_init", sc_fanotify_init, EPERM, false, "fanotify_init(FAN_REPORT_FID)"),
    SC("mbind", sc_mbind, EPERM, false, "mbind(empty range)"),
    SC("set_mempolicy", sc_set_mempolicy, EPERM, false, "set_mempolicy(MPOL_DEFAULT)"),
    SC("migrate_pages", sc_migrate_pages, EPERM, false, "migrate_pages(no such pid)"),
    SC("move_pages", sc_move_pages, EPERM, false, "move_pages(no such pid, bad flags)"),
    SC("memfd_secret", sc_memfd_secret, EPERM, false, "memfd_secret(bad flags)"),
    SC("vhangup", sc_vhangup, EPERM, true, "vhangup() in a new session (no terminal)"),
    SC("uselib", sc_uselib, EPERM, false, "uselib(no such path)"),
    SC("ustat", sc_ustat, EPERM, false, "ustat(dev 0)"),
    SC("sysfs", sc_sysfs, EPERM, false, "sysfs(99)"),
    SC("ioctl-tiocsti", sc_tiocsti, EPERM, false, "ioctl(-1, TIOCSTI)"),
    SC("ioctl-tioclinux", sc_tioclinux, EPERM, false, "ioctl(-1, TIOCLINUX)"),
    {NULL, NULL, NULL},
};
