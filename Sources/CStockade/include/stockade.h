/*
 * stockade.h — the C shim of Stockade.
 *
 * One spawn function (stk_spawn) that creates an isolated process with raw kernel calls, plus a
 * few small helpers Swift cannot reach through Glibc. Everything a child needs between clone and
 * exec is prepared by the caller in plain C memory (struct stk_spawn_spec) before the call.
 *
 * Safety notes use two labels:
 *   [child-safe]  may run between clone and exec: raw system calls on prepared memory only.
 *   [parent]      runs in the calling (possibly multithreaded) process; never in the child.
 */
#ifndef STOCKADE_H
#define STOCKADE_H

/* No _GNU_SOURCE here: Swift imports this header as a module next to Glibc's, and both must see
 * the same definitions of system types (fd_set, rusage). The .c files define it themselves. */
#include <stdint.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The step a spawn failed at. Stable numbers: they cross the error pipe and appear in messages. */
enum stk_step {
    STK_STEP_NONE = 0,
    STK_STEP_PIPE = 1,            /* parent: creating the go / error pipes */
    STK_STEP_CLONE = 2,           /* parent: clone3 / clone */
    STK_STEP_UID_MAP = 3,         /* parent: writing /proc/PID/uid_map */
    STK_STEP_GID_MAP = 4,         /* parent: writing /proc/PID/gid_map */
    STK_STEP_CGROUP = 5,          /* parent: writing the pid into cgroup.procs */
    STK_STEP_GO = 6,              /* parent: releasing the child */
    STK_STEP_WAIT_EXEC = 7,       /* parent: waiting for exec (timeout) */
    STK_STEP_WAIT_GO = 10,        /* child: waiting for the parent's go */
    STK_STEP_SIGNALS = 11,        /* child: resetting signal mask and dispositions */
    STK_STEP_SETSID = 12,
    STK_STEP_PDEATHSIG = 13,
    STK_STEP_CGROUP_NS = 14,      /* child: unshare(CLONE_NEWCGROUP) after joining the cgroup */
    STK_STEP_SETFSID = 15,
    STK_STEP_MOUNT_PRIVATE = 16,
    STK_STEP_ROOT_TMPFS = 17,
    STK_STEP_MKDIR = 18,
    STK_STEP_BIND = 19,
    STK_STEP_REMOUNT = 20,
    STK_STEP_TMPFS = 21,
    STK_STEP_PROC = 22,
    STK_STEP_FILE = 23,
    STK_STEP_SYMLINK = 24,
    STK_STEP_PIVOT_ROOT = 25,
    STK_STEP_DETACH_OLD_ROOT = 26,
    STK_STEP_ROOT_READONLY = 27,
    STK_STEP_HOSTNAME = 28,
    STK_STEP_NETWORK = 29,        /* child: bringing loopback up */
    STK_STEP_RLIMIT = 30,
    STK_STEP_SETGROUPS = 31,
    STK_STEP_SETGID = 32,
    STK_STEP_SETUID = 33,
    STK_STEP_CAP_BOUNDING = 34,
    STK_STEP_CAP_AMBIENT = 35,
    STK_STEP_CAPSET = 36,
    STK_STEP_NO_NEW_PRIVS = 37,
    STK_STEP_CHDIR = 38,
    STK_STEP_STDIO = 39,
    STK_STEP_CLOSE_FDS = 40,
    STK_STEP_LANDLOCK = 41,
    STK_STEP_SECCOMP = 42,
    STK_STEP_EXEC = 43,
    STK_STEP_SETPGID = 44,
    STK_STEP_DUMPABLE = 45,
    STK_STEP_DISABLE_USERNS = 46, /* child: max_user_namespaces = 0 in its own user namespace */
};

/* Namespace switches (stk_spawn_spec.namespaces). */
enum {
    STK_NS_USER = 1 << 0,
    STK_NS_PID = 1 << 1,
    STK_NS_MOUNT = 1 << 2,
    STK_NS_NET = 1 << 3,
    STK_NS_IPC = 1 << 4,
    STK_NS_UTS = 1 << 5,
    STK_NS_CGROUP = 1 << 6,
};

/* Mount operations, applied in order, before pivot_root. Targets are absolute host paths under the
 * new root (the caller prefixes them with the staging directory). */
enum stk_mount_kind {
    STK_MOUNT_MKDIR = 1,     /* mkdir(target, mode); EEXIST is fine */
    STK_MOUNT_BIND = 2,      /* bind source onto target (target created as dir or file first) */
    STK_MOUNT_TMPFS = 3,     /* tmpfs on target with data as options */
    STK_MOUNT_PROC = 4,      /* a fresh proc on target (needs a new pid namespace) */
    STK_MOUNT_FILE = 5,      /* create target with data[0..data_len) and mode */
    STK_MOUNT_SYMLINK = 6,   /* symlink(source, target) */
};

enum {
    STK_MOUNT_F_READONLY = 1 << 0,  /* remount the bind read-only */
    STK_MOUNT_F_DIR = 1 << 1,       /* bind target is a directory (else a file) */
    STK_MOUNT_F_RECURSIVE = 1 << 2, /* MS_REC for binds */
    STK_MOUNT_F_DEVICE = 1 << 3,    /* a device node bind: keep dev, no noexec */
    STK_MOUNT_F_NO_REMOUNT = 1 << 4, /* the source already has every flag a remount would add */
};

struct stk_mount {
    uint32_t kind;
    uint32_t flags;
    uint32_t mode;            /* for MKDIR and FILE */
    uint32_t _pad;
    uint64_t locked_flags;    /* MS_* flags of the source mount that a remount must keep */
    const char *source;       /* bind source, symlink target */
    const char *target;
    const char *data;         /* tmpfs options, or file contents */
    uint64_t data_len;
};

struct stk_rlimit {
    int32_t resource;
    int32_t _pad;
    uint64_t soft;
    uint64_t hard;
};

/* Landlock: paths (inside the new root) and the access rights allowed beneath each. */
struct stk_landlock_rule {
    const char *path;
    uint64_t access;
};

struct stk_spawn_spec {
    /* What to run. exec_fd >= 0: execveat(exec_fd, "", AT_EMPTY_PATH). Otherwise each of
     * exec_paths is tried in order (the caller resolved PATH for the inside view). */
    int32_t exec_fd;
    int32_t exec_path_count;
    const char *const *exec_paths;
    char *const *argv;       /* NULL-terminated */
    char *const *envp;       /* NULL-terminated */
    const char *cwd;         /* inside the new root; NULL keeps the current directory */

    /* stdio: fds in the parent that become 0, 1, 2 in the child; -1 leaves that fd as it is. */
    int32_t stdio[3];
    /* More fds passed on: extra_fds[i] becomes fd 3 + i in the child (at most 5). */
    int32_t extra_fds[5];
    int32_t extra_fd_count;
    int32_t namespaces;      /* STK_NS_* */

    /* Identity. With a user namespace: inside uid/gid mapped to host uid/gid (one id each). */
    uint32_t inside_uid, inside_gid;
    uint32_t host_uid, host_gid;
    int32_t set_identity;    /* 1: setgroups(0), setresgid/setresuid to inside ids */

    /* Filesystem. new_root == NULL: no root change. */
    const char *new_root;            /* staging directory to mount the root tmpfs on */
    const char *new_root_options;    /* tmpfs options of the root, e.g. "mode=0755,size=1m" */
    int32_t root_readonly;           /* remount / read-only after pivot_root */
    int32_t mount_count;
    const struct stk_mount *mounts;

    const char *hostname;            /* with a UTS namespace; NULL leaves it */
    int32_t disable_nested_userns;   /* set max_user_namespaces to 0 inside (needs a proc mount) */

    int32_t rlimit_count;
    int32_t _pad0;
    const struct stk_rlimit *rlimits;

    /* Privileges. */
    int32_t drop_caps;               /* bounding set, ambient, then capset to zero */
    int32_t last_cap;                /* highest capability number the kernel knows */
    int32_t no_new_privs;
    int32_t new_session;             /* setsid (no controlling terminal, own process group) */
    int32_t new_process_group;       /* setpgid(0, 0) when new_session is 0 */
    int32_t pdeathsig;               /* signal on parent death, 0 for none */
    int32_t close_fds;               /* close_range(3 + extra_fd_count, ~0U, CLOSE_RANGE_CLOEXEC) */

    /* Landlock ruleset (handled_access == 0: none). */
    uint64_t landlock_handled_fs;
    uint64_t landlock_handled_net;   /* ABI 4+: TCP bind/connect rights handled (all denied) */
    uint64_t landlock_scoped;        /* ABI 6+: LANDLOCK_SCOPE_* bits */
    int32_t landlock_rule_count;
    int32_t landlock_abi;
    const struct stk_landlock_rule *landlock_rules;

    /* Seccomp program (struct sock_filter array), loaded last. NULL: none. */
    const void *seccomp_filter;
    uint32_t seccomp_filter_len;     /* number of sock_filter instructions */
    uint32_t seccomp_flags;          /* SECCOMP_FILTER_FLAG_* */

    /* Parent side. */
    int32_t cgroup_proc_fd_count;
    int32_t _pad1;
    const int32_t *cgroup_proc_fds; /* open cgroup.procs files; the child's pid is written to each */
    int32_t exec_timeout_ms;         /* bound on waiting for exec; the child is killed after it */
    /* A network namespace made ahead of time (stk_netns_create): the calling thread joins it for the
     * clone and returns to restore_net_ns_fd after, so the child starts in it. -1: none (with
     * STK_NS_NET the clone makes a fresh one and the child brings lo up itself). */
    int32_t net_ns_fd;
    int32_t restore_net_ns_fd;
    int32_t use_clone3;              /* 1: try clone3 first (fallback to clone on ENOSYS) */
};

/* The outcome of stk_spawn. On failure pid may still be set if the child was made (it was reaped). */
struct stk_spawn_result {
    int32_t pid;
    int32_t pidfd;
    int32_t step;            /* enum stk_step, 0 on success */
    int32_t err;             /* errno at that step */
    int32_t index;           /* which mount / rlimit / exec path failed, -1 if none */
    int32_t used_clone3;     /* 1 if clone3 made the child, 0 if the clone fallback did */
    char detail[256];        /* the path or name involved, when there is one */
};

/* [parent] Create the sandboxed child. Returns 0 on success (child exec'd), -1 on failure with
 * result->step / result->err / result->detail filled. Reentrant: no static buffers. */
int stk_spawn(const struct stk_spawn_spec *spec, struct stk_spawn_result *result);

/* [parent] Name of a step, for messages. */
const char *stk_step_name(int step);

/* [parent] Wait for a child through its pidfd, collecting rusage. options: WEXITED|WNOHANG...
 * Returns 0 and fills *code_out (CLD_*) / *status_out / *ru, or -1 with errno. With WNOHANG and nothing
 * ready, returns 0 with *pid_out == 0. */
int stk_waitid_pidfd(int pidfd, int options, int *pid_out, int *code_out, int *status_out,
                     struct rusage *ru);

/* [parent] Small system-call helpers Swift's Glibc module lacks. Each returns -1 with errno. */
int stk_pipe2(int fds[2], int flags);
int stk_memfd_create(const char *name, unsigned int flags);
int stk_pidfd_open(pid_t pid);
int stk_pidfd_send_signal(int pidfd, int sig);
int stk_close_range(unsigned int first, unsigned int last, unsigned int flags);
int stk_landlock_abi_version(void);          /* -1 with errno when Landlock is unavailable */
int stk_seccomp_available(void);             /* 1 if seccomp filters are supported */
int stk_last_cap(void);                      /* from /proc/sys/kernel/cap_last_cap, or 40 */
int stk_set_cloexec(int fd, int on);
int stk_set_nonblock(int fd, int on);
int stk_fcntl_add_seals(int fd, int seals);
int stk_execveat_supported(void);
int stk_openat2_beneath(int dirfd, const char *path, int flags, int mode, int resolve_flags);
int stk_prctl_set_child_subreaper(void);
int stk_signalfd_sigchld(void);              /* blocks SIGCHLD and returns a signalfd for it */
int stk_sig_block(int sig, int block);
int stk_clone3_available(void);
/* [parent] A new network namespace with lo up, as an fd. The calling thread makes it with unshare and
 * returns to restore_fd (its own namespace, from /proc/thread-self/ns/net) before returning. */
int stk_netns_create(int restore_fd);
/* [parent] An fd for the calling thread's network namespace. */
int stk_netns_current(void);
int stk_set_dumpable(int on);
int stk_random_bytes(void *buf, unsigned long len); /* getrandom(2) */
int stk_socketpair_seqpacket(int fds[2]);
/* sendmsg with the fds as SCM_RIGHTS (at most 16). */
int stk_send_fds(int sock, const void *buf, unsigned long len, const int *fds, int nfds);
/* Set a limit of another process (same uid may lower it). */
int stk_prlimit(int pid, int resource, uint64_t soft, uint64_t hard);                /* PR_SET_DUMPABLE: 0 hides /proc/self/{mem,fd,environ} from same-uid processes */              /* 1 if the kernel has clone3 */

/* Constants Swift's Glibc overlay does not export. */
extern const int STK_RLIMIT_AS, STK_RLIMIT_CPU, STK_RLIMIT_FSIZE, STK_RLIMIT_NOFILE,
    STK_RLIMIT_NPROC, STK_RLIMIT_CORE, STK_RLIMIT_DATA, STK_RLIMIT_STACK, STK_RLIMIT_MEMLOCK;
extern const unsigned int STK_MFD_CLOEXEC, STK_MFD_ALLOW_SEALING;
extern const int STK_F_SEAL_SEAL, STK_F_SEAL_SHRINK, STK_F_SEAL_GROW, STK_F_SEAL_WRITE;
extern const unsigned long STK_MS_RDONLY, STK_MS_NOSUID, STK_MS_NODEV, STK_MS_NOEXEC,
    STK_MS_NOATIME, STK_MS_NODIRATIME, STK_MS_RELATIME;
extern const int STK_O_PATH;
extern const int STK_RESOLVE_BENEATH, STK_RESOLVE_NO_SYMLINKS, STK_RESOLVE_NO_MAGICLINKS,
    STK_RESOLVE_NO_XDEV;
extern const uint64_t STK_LANDLOCK_ACCESS_FS_ALL_V1, STK_LANDLOCK_ACCESS_FS_READ,
    STK_LANDLOCK_ACCESS_FS_WRITE_V1;

#ifdef __cplusplus
}
#endif
#endif
