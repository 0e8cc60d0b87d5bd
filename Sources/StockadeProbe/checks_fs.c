/* checks_fs.c — the filesystem: host files by every route, writes outside the allowed
 * directories, devices, procfs and sysfs, the executable. */
#include "probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_name_to_handle_at
#define SYS_name_to_handle_at 303
#endif
#ifndef SYS_open_by_handle_at
#define SYS_open_by_handle_at 304
#endif

#define OPEN_PROBE_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* The host paths that matter most for the relative routes: the ones given, else /etc/shadow. */
static int key_paths(const char **out, int cap) {
    int n = 0;
    for (int i = 0; i < g_opt.host_file_count && n < cap; i++) out[n++] = g_opt.host_file[i];
    if (n == 0) out[n++] = "/etc/shadow";
    return n;
}

/* Writable directories to plant links in: /tmp and the --writable ones. */
static int plant_dirs(const char **out, int cap) {
    int n = 0;
    out[n++] = "/tmp";
    for (int i = 0; i < g_opt.writable_count && n < cap; i++) out[n++] = g_opt.writable[i];
    return n;
}

/* Open read-only; returns true when it opened (and closes it). */
static bool opens(const char *path, int *err) {
    int fd = open(path, OPEN_PROBE_FLAGS);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    close(fd);
    *err = 0;
    return true;
}

/*
 * fs.host-file — host files and directories are not visible. Tries stat and open on the
 * --host-file paths and on host paths that never belong in a sandbox (/etc/shadow, /etc/ssh,
 * /root, /home, /var, /boot, /opt, /srv, /run, /mnt, /media, /sys, ...; a default that holds a
 * --writable directory is left out). PASS: none exists here. FAIL: one exists (FAIL says whether
 * it could also be opened).
 */
static void check_fs_host_file(const struct probe_check *self) {
    (void)self;
    const char *paths[PROBE_MAX_LIST + 32];
    int n = host_paths(paths, PROBE_MAX_LIST + 32);
    struct sbuf bad;
    sb_init(&bad);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) continue;
        int e;
        bool o = opens(paths[i], &e);
        sb_add(&bad, "%s exists%s", paths[i], o ? " and opens for reading" : "");
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("none of %d host paths exists here (%d given with --host-file)", n, g_opt.host_file_count);
}

/*
 * fs.dotdot — ".." never leads above the sandbox's root. PASS: "/.." and "D/.." for every
 * top-level directory D are the root itself or D's parent inside; 40 chdir("..") from /tmp end at
 * "/"; and the --host-file paths (or /etc/shadow) cannot be opened through ../../.. from /tmp,
 * from the working directory or through /proc/self/cwd. FAIL otherwise.
 */
static void check_fs_dotdot(const struct probe_check *self) {
    (void)self;
    struct sbuf bad;
    sb_init(&bad);
    struct stat root, st;
    if (stat("/", &root) < 0) {
        fail("stat(/): %s", errname(errno));
        return;
    }
    if (stat("/..", &st) == 0 && (st.st_ino != root.st_ino || st.st_dev != root.st_dev))
        sb_add(&bad, "/.. is not /");
    DIR *d = opendir("/");
    int tops = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char p[512];
            snprintf(p, sizeof p, "/%s", e->d_name);
            /* Real directories and mount points only: a link such as /bin -> usr/bin has its
             * target's parent as "..". */
            if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
            snprintf(p, sizeof p, "/%s/..", e->d_name);
            if (stat(p, &st) == 0 && (st.st_ino != root.st_ino || st.st_dev != root.st_dev))
                sb_add(&bad, "%s is not /", p);
            tops++;
        }
        closedir(d);
    }
    if (chdir("/tmp") == 0) {
        for (int i = 0; i < 40; i++)
            if (chdir("..") < 0) break;
        if (stat(".", &st) == 0 && (st.st_ino != root.st_ino || st.st_dev != root.st_dev))
            sb_add(&bad, "40 x chdir(..) from /tmp ended outside /");
        (void)!chdir("/");
    }
    const char *keys[PROBE_MAX_LIST + 1];
    int nk = key_paths(keys, PROBE_MAX_LIST + 1);
    int tmpfd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < nk; i++) {
        const char *rel = keys[i];
        while (*rel == '/') rel++;
        char p[4096];
        int fd;
        snprintf(p, sizeof p, "../../../../../../../../../../%s", rel);
        if (tmpfd >= 0 && (fd = openat(tmpfd, p, OPEN_PROBE_FLAGS)) >= 0) {
            close(fd);
            sb_add(&bad, "opened /tmp/%s", p);
        }
        if ((fd = open(p, OPEN_PROBE_FLAGS)) >= 0) {
            close(fd);
            sb_add(&bad, "opened %s from the working directory", p);
        }
        snprintf(p, sizeof p, "/proc/self/cwd/../../../../../../%s", rel);
        if ((fd = open(p, OPEN_PROBE_FLAGS)) >= 0) {
            close(fd);
            sb_add(&bad, "opened %s", p);
        }
    }
    if (tmpfd >= 0) close(tmpfd);
    if (bad.len) fail("%s", bad.buf);
    else pass("/.. and the .. of all %d top-level directories are /; chdir(..) x40 stops at /; %d host path(s) not reachable through ../ routes",
              tops, nk);
}

/*
 * fs.symlink — a symbolic link made inside cannot reach a host file. In /tmp and each --writable
 * directory, plants links to each host path (absolute, ../../.. relative and through
 * /proc/1/root) and opens them. PASS: no link opens. FAIL: one does. The links are removed.
 */
static void check_fs_symlink(const struct probe_check *self) {
    (void)self;
    const char *keys[PROBE_MAX_LIST + 1], *dirs[PROBE_MAX_LIST + 1];
    int nk = key_paths(keys, PROBE_MAX_LIST + 1);
    int nd = plant_dirs(dirs, PROBE_MAX_LIST + 1);
    struct sbuf bad;
    sb_init(&bad);
    int planted = 0, refused = 0;
    for (int di = 0; di < nd; di++) {
        for (int i = 0; i < nk; i++) {
            const char *rel = keys[i];
            while (*rel == '/') rel++;
            char targets[3][4096];
            snprintf(targets[0], sizeof targets[0], "%s", keys[i]);
            snprintf(targets[1], sizeof targets[1], "../../../../../../../../../../%s", rel);
            snprintf(targets[2], sizeof targets[2], "/proc/1/root/%s", rel);
            for (int t = 0; t < 3; t++) {
                char link[4096];
                canary_path(link, sizeof link, dirs[di], "link");
                if (symlink(targets[t], link) < 0) {
                    refused++;
                    continue;
                }
                planted++;
                int e;
                if (opens(link, &e)) sb_add(&bad, "%s -> %s opened", link, targets[t]);
                unlink(link);
            }
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%d link(s) to %d host path(s) planted in %d dir(s) (%d refused): none opens", planted, nk, nd, refused);
}

/* First regular file in dir, or NULL. */
static bool first_regular(const char *dir, char *out, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            snprintf(out, cap, "%s", p);
            found = true;
        }
    }
    closedir(d);
    return found;
}

/*
 * fs.hardlink — a hard link cannot give a host file (or a read-only system file) a writable name.
 * Tries link(2) of each host path and of a file in /usr/bin and /etc into /tmp and each --writable
 * directory. PASS: every link fails (ENOENT for invisible host files, EXDEV across mounts,
 * EPERM from protected_hardlinks). FAIL: a link is made (and removed at once).
 */
static void check_fs_hardlink(const struct probe_check *self) {
    (void)self;
    const char *keys[PROBE_MAX_LIST + 1], *dirs[PROBE_MAX_LIST + 1];
    int nk = key_paths(keys, PROBE_MAX_LIST + 1);
    int nd = plant_dirs(dirs, PROBE_MAX_LIST + 1);
    const char *sources[PROBE_MAX_LIST + 4];
    int ns = 0;
    for (int i = 0; i < nk; i++) sources[ns++] = keys[i];
    static char sysfile[2][4096];
    if (first_regular("/usr/bin", sysfile[0], sizeof sysfile[0])) sources[ns++] = sysfile[0];
    if (first_regular("/etc", sysfile[1], sizeof sysfile[1])) sources[ns++] = sysfile[1];
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    for (int di = 0; di < nd; di++) {
        for (int i = 0; i < ns; i++) {
            char name[4096];
            canary_path(name, sizeof name, dirs[di], "hardlink");
            if (link(sources[i], name) == 0) {
                unlink(name);
                sb_add(&bad, "linked %s as %s", sources[i], name);
            } else if (di == 0) {
                sb_add(&b, "%s: %s", sources[i], errname(errno));
            }
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("link(2) refused into %d dir(s): %s", nd, b.buf);
}

/*
 * fs.proc-root — /proc/PID/root and /proc/PID/cwd of every visible process lead nowhere new.
 * PASS: readlink(/proc/1/root) is "/" and no host path opens through /proc/PID/root/... or
 * /proc/PID/cwd/../../... FAIL otherwise.
 */
static void check_fs_proc_root(const struct probe_check *self) {
    (void)self;
    struct sbuf bad;
    sb_init(&bad);
    char link[512];
    ssize_t n = readlink("/proc/1/root", link, sizeof link - 1);
    if (n >= 0) {
        link[n] = 0;
        if (strcmp(link, "/") != 0) sb_add(&bad, "/proc/1/root -> %s", link);
    }
    const char *paths[PROBE_MAX_LIST + 32];
    int np = host_paths(paths, PROBE_MAX_LIST + 32);
    long pids[4096];
    int npids = list_pids(pids, 4096);
    if (npids < 0) npids = 0;
    if (g_opt.host_pid > 0 && npids < 4096) pids[npids++] = g_opt.host_pid;
    int tried = 0;
    for (int i = 0; i < npids; i++) {
        for (int j = 0; j < np; j++) {
            const char *rel = paths[j];
            while (*rel == '/') rel++;
            char p[4096];
            int e;
            snprintf(p, sizeof p, "/proc/%ld/root/%s", pids[i], rel);
            tried++;
            if (opens(p, &e)) sb_add(&bad, "opened %s", p);
            snprintf(p, sizeof p, "/proc/%ld/cwd/../../../../../../%s", pids[i], rel);
            tried++;
            if (opens(p, &e)) sb_add(&bad, "opened %s", p);
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("/proc/1/root -> %s; %d route(s) through /proc/PID/root and /proc/PID/cwd of %d process(es): none opens",
              n >= 0 ? link : "(unreadable)", tried, npids);
}

struct handle_buf {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
};

/*
 * fs.file-handle — file handles cannot open files by inode (the "shocker" escape: a handle for
 * inode 2 on a bind-mounted filesystem opens that filesystem's real root). Asks for the handle of
 * /usr (a bind of a host filesystem), then calls open_by_handle_at with it and with forged handles
 * of the filesystem root (ext4 inode 2, btrfs objectid 256) relative to /usr. PASS: every
 * open_by_handle_at fails. FAIL: one opens (the line lists a few names in what it opened).
 */
static void check_fs_file_handle(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    int mfd = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0) {
        pass("/usr cannot be opened (%s): no filesystem to forge handles on", errname(errno));
        return;
    }
    struct handle_buf real = {.handle_bytes = 128};
    int mnt_id = 0;
    bool have_real = false;
    if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/usr", &real, &mnt_id, 0) == 0) {
        have_real = true;
        sb_add(&b, "name_to_handle_at(/usr) gave a handle of type %d", real.handle_type);
    } else {
        sb_add(&b, "name_to_handle_at(/usr): %s", errname(errno));
    }
    struct handle_buf tries[3];
    const char *what[3];
    int nt = 0;
    if (have_real) {
        tries[nt] = real;
        what[nt++] = "the real handle of /usr";
    }
    memset(&tries[nt], 0, sizeof tries[nt]);
    tries[nt].handle_bytes = 8;
    tries[nt].handle_type = 1; /* FILEID_INO32_GEN: {ino, generation} */
    uint32_t ext[2] = {2, 0};
    memcpy(tries[nt].f_handle, ext, sizeof ext);
    what[nt++] = "a forged handle of inode 2 (ext2/3/4 root)";
    memset(&tries[nt], 0, sizeof tries[nt]);
    tries[nt].handle_bytes = 20;
    tries[nt].handle_type = 0x4d; /* FILEID_BTRFS_WITHOUT_PARENT: {objectid, root_objectid, gen} */
    uint64_t btr[2] = {256, 5};
    memcpy(tries[nt].f_handle, btr, sizeof btr);
    what[nt++] = "a forged handle of btrfs objectid 256";
    for (int i = 0; i < nt; i++) {
        int fd = (int)syscall(SYS_open_by_handle_at, mfd, &tries[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            sb_add(&b, "open_by_handle_at(%s): %s", what[i], errname(errno));
            continue;
        }
        struct sbuf names;
        sb_init(&names);
        DIR *d = fdopendir(fd);
        if (d) {
            struct dirent *e;
            int k = 0;
            while ((e = readdir(d)) != NULL && k < 8)
                if (e->d_name[0] != '.') {
                    sb_cat(&names, "%s%s", k ? "," : "", e->d_name);
                    k++;
                }
            closedir(d);
        } else {
            close(fd);
        }
        sb_add(&bad, "open_by_handle_at(%s) opened it (entries: %s)", what[i], names.len ? names.buf : "not a directory");
    }
    close(mfd);
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/* Breadth-first list of directories under / (depth <= 3, at most cap), skipping /proc, /sys and
 * the allowed writable trees. */
static int walk_dirs(char (*out)[512], int cap) {
    int n = 0, head = 0;
    snprintf(out[n++], 512, "/");
    while (head < n && n < cap) {
        const char *dir = out[head++];
        int depth = 0; /* "/" is 0, "/usr" 1, "/usr/lib" 2 */
        for (const char *p = dir; *p; p++)
            if (*p == '/' && p[1]) depth++;
        if (depth >= 3) continue;
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < cap) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[1024];
            int len = snprintf(p, sizeof p, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", e->d_name);
            if (len < 0 || len >= 512) continue;
            struct stat st;
            if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
            if (strcmp(p, "/proc") == 0 || strcmp(p, "/sys") == 0 || is_allowed_writable(p)) continue;
            memcpy(out[n++], p, (size_t)len + 1);
        }
        closedir(d);
    }
    return n;
}

/*
 * fs.write-outside — nothing outside /tmp, /dev/shm and the --writable directories can be written.
 * Tries to create a uniquely named canary file in every directory found under / (breadth-first,
 * depth <= 3, at most 400; /proc and /sys excluded), mkdir/mkfifo/symlink in /, /etc and /dev, and
 * opening (O_WRONLY|O_APPEND, nothing written) the regular files of /etc and the first of
 * /usr/bin. PASS: everything is refused. FAIL: anything succeeds (canaries are removed at once).
 */
static void check_fs_write_outside(const struct probe_check *self) {
    (void)self;
    static char dirs[400][512];
    int n = walk_dirs(dirs, 400);
    struct sbuf bad;
    sb_init(&bad);
    int refused = 0;
    for (int i = 0; i < n; i++) {
        int e;
        if (try_create_in(dirs[i], &e)) sb_add(&bad, "created a file in %s", dirs[i]);
        else refused++;
    }
    const char *tops[] = {"/", "/etc", "/dev"};
    for (size_t i = 0; i < 3; i++) {
        char p[4096];
        canary_path(p, sizeof p, tops[i], "dir");
        if (mkdir(p, 0700) == 0) {
            rmdir(p);
            sb_add(&bad, "mkdir in %s", tops[i]);
        }
        canary_path(p, sizeof p, tops[i], "fifo");
        if (mkfifo(p, 0600) == 0) {
            unlink(p);
            sb_add(&bad, "mkfifo in %s", tops[i]);
        }
        canary_path(p, sizeof p, tops[i], "sym");
        if (symlink("/tmp", p) == 0) {
            unlink(p);
            sb_add(&bad, "symlink in %s", tops[i]);
        }
    }
    int files = 0;
    DIR *d = opendir("/etc");
    char paths[64][512];
    int np = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL && np < 63) {
            char p[512];
            struct stat st;
            snprintf(p, sizeof p, "/etc/%s", e->d_name);
            if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) snprintf(paths[np++], 512, "%s", p);
        }
        closedir(d);
    }
    if (first_regular("/usr/bin", paths[np], 512)) np++;
    for (int i = 0; i < np; i++) {
        int fd = open(paths[i], O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        files++;
        if (fd >= 0) {
            close(fd);
            sb_add(&bad, "opened %s for writing", paths[i]);
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("canary creation refused in all %d directories under / (depth <= 3); mkdir/mkfifo/symlink refused in /, /etc, /dev; %d existing file(s) refused for writing",
              refused, files);
}

/*
 * fs.readonly-usr — /usr (the host's, bound in) is read-only. PASS: statvfs reports ST_RDONLY,
 * canaries cannot be created in /usr, /usr/bin, /usr/lib, /usr/local/bin, and a file in /usr/bin
 * can neither be opened for writing nor chmod'ed (to its own mode: nothing would change). FAIL:
 * any of these is allowed.
 */
static void check_fs_readonly_usr(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    struct statvfs sv;
    if (statvfs("/usr", &sv) < 0) {
        fail("statvfs(/usr): %s", errname(errno));
        return;
    }
    if (!(sv.f_flag & ST_RDONLY)) sb_add(&bad, "/usr is not mounted read-only");
    else sb_add(&b, "/usr mounted read-only");
    const char *dirs[] = {"/usr", "/usr/bin", "/usr/lib", "/usr/local/bin"};
    for (size_t i = 0; i < 4; i++) {
        int e;
        if (try_create_in(dirs[i], &e)) sb_add(&bad, "created a file in %s", dirs[i]);
        else sb_add(&b, "%s: %s", dirs[i], errname(e));
    }
    char f[4096];
    if (first_regular("/usr/bin", f, sizeof f)) {
        int fd = open(f, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            close(fd);
            sb_add(&bad, "opened %s for writing", f);
        } else {
            sb_add(&b, "open(%s, O_WRONLY): %s", f, errname(errno));
        }
        struct stat st;
        if (stat(f, &st) == 0) {
            if (chmod(f, st.st_mode & 07777) == 0) sb_add(&bad, "chmod %s allowed", f);
            else sb_add(&b, "chmod: %s", errname(errno));
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/*
 * fs.other-user — another Stockade user's directories are invisible. Needs --other-user-dir
 * (their host paths, or where they would be mounted). PASS: each is absent (or at least can be
 * neither listed, read nor written). FAIL: one can be listed or written.
 */
static void check_fs_other_user(const struct probe_check *self) {
    (void)self;
    if (g_opt.other_user_dir_count == 0) {
        skip("no --other-user-dir given");
        return;
    }
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    for (int i = 0; i < g_opt.other_user_dir_count; i++) {
        const char *p = g_opt.other_user_dir[i];
        struct stat st;
        if (stat(p, &st) < 0) {
            sb_add(&b, "%s: %s", p, errname(errno));
            continue;
        }
        DIR *d = opendir(p);
        if (d) {
            closedir(d);
            sb_add(&bad, "%s can be listed", p);
        }
        int e;
        if (S_ISDIR(st.st_mode) && try_create_in(p, &e)) sb_add(&bad, "%s is writable", p);
        if (!d) sb_add(&b, "%s exists but cannot be listed", p);
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/*
 * dev.nodes — /dev holds only the harmless devices. PASS: /dev has only null, zero, full, random,
 * urandom (each the right char device 1:3, 1:5, 1:7, 1:8, 1:9), the fd/stdin/stdout/stderr links
 * and shm (plus pts/ptmx when present); none of the dangerous nodes (/dev/mem, kmsg, disks, kvm,
 * vsock, fuse, tun, consoles, ...) opens; and mknod of a device (1:3, /dev/null's numbers) in /tmp
 * is refused. FAIL otherwise (a node made by mknod is removed at once).
 */
static void check_dev_nodes(const struct probe_check *self) {
    (void)self;
    struct sbuf bad;
    sb_init(&bad);
    static const struct {
        const char *name;
        unsigned maj, min;
    } allowed[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}};
    static const char *allowed_other[] = {"fd", "stdin", "stdout", "stderr", "shm", "pts", "ptmx", "mqueue"};
    int entries = 0;
    DIR *d = opendir("/dev");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            entries++;
            char p[512];
            struct stat st;
            snprintf(p, sizeof p, "/dev/%s", e->d_name);
            if (lstat(p, &st) < 0) continue;
            bool ok = false;
            for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
                if (strcmp(e->d_name, allowed[i].name) == 0) {
                    ok = true;
                    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != allowed[i].maj || minor(st.st_rdev) != allowed[i].min)
                        sb_add(&bad, "%s is %s %u:%u", p, S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" : "not a device",
                               major(st.st_rdev), minor(st.st_rdev));
                }
            for (size_t i = 0; i < sizeof allowed_other / sizeof allowed_other[0]; i++)
                if (strcmp(e->d_name, allowed_other[i]) == 0 && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) ok = true;
            if (strcmp(e->d_name, "ptmx") == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2) ok = true;
            if (!ok)
                sb_add(&bad, "unexpected /dev/%s (%s)", e->d_name,
                       S_ISCHR(st.st_mode) ? "char device" : S_ISBLK(st.st_mode) ? "block device" : S_ISDIR(st.st_mode) ? "directory" : "file");
        }
        closedir(d);
    }
    /* Never /dev/watchdog: opening it arms the machine's watchdog. */
    static const char *dangerous[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda",
                                      "/dev/xvda", "/dev/nvme0n1", "/dev/loop0", "/dev/loop-control", "/dev/kvm",
                                      "/dev/vsock", "/dev/vhost-vsock", "/dev/vhost-net", "/dev/fuse", "/dev/net/tun",
                                      "/dev/console", "/dev/tty", "/dev/tty0", "/dev/tty1", "/dev/ttyS0", "/dev/hwrng",
                                      "/dev/btrfs-control", "/dev/cpu/0/msr", "/dev/userfaultfd", "/dev/uinput",
                                      "/dev/dri/card0", "/dev/snd/timer", "/dev/bpf"};
    int refused = 0;
    for (size_t i = 0; i < sizeof dangerous / sizeof dangerous[0]; i++) {
        int fd = open(dangerous[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            close(fd);
            sb_add(&bad, "opened %s", dangerous[i]);
        } else {
            refused++;
        }
    }
    char node[4096];
    canary_path(node, sizeof node, "/tmp", "node");
    int mk_err = 0;
    if (mknod(node, S_IFCHR | 0600, makedev(1, 3)) == 0) {
        int fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        sb_add(&bad, "mknod of char 1:3 in /tmp succeeded%s", fd >= 0 ? " and it opens (no nodev)" : "");
        if (fd >= 0) close(fd);
        unlink(node);
    } else {
        mk_err = errno;
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("/dev has %d expected entries; %d dangerous device paths do not open; mknod refused (%s)", entries,
              refused, errname(mk_err));
}

/* Open each path for writing without writing anything; list those that open in `bad`. */
static int try_open_write(const char *const *paths, size_t n, struct sbuf *bad, struct sbuf *ok) {
    int opened = 0;
    for (size_t i = 0; i < n; i++) {
        int fd = open(paths[i], O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            close(fd);
            sb_add(bad, "%s opens for writing", paths[i]);
            opened++;
        } else if (ok) {
            sb_add(ok, "%s %s", paths[i], errname(errno));
        }
    }
    return opened;
}

/*
 * sys.procfs-write — the kernel's global knobs in /proc cannot be changed. Opens for writing
 * (never writes) /proc/sysrq-trigger, core_pattern, modprobe, drop_caches, binfmt_misc and more:
 * none may open. The identity maps and setgroups of the process open for writing by design (the
 * kernel checks at write time); for them a write that the kernel always refuses once the maps are
 * set (a second uid_map, "deny" after gid_map) is tried. PASS: no knob opens and no such write
 * succeeds. FAIL otherwise.
 */
static void check_sys_procfs_write(const struct probe_check *self) {
    (void)self;
    static const struct {
        const char *path;
        const char *write; /* NULL: opening for writing is already the failure */
    } knobs[] = {
        {"/proc/sysrq-trigger", NULL}, {"/proc/sys/kernel/core_pattern", NULL},
        {"/proc/sys/kernel/modprobe", NULL}, {"/proc/sys/kernel/hostname", NULL},
        {"/proc/sys/kernel/panic", NULL}, {"/proc/sys/kernel/randomize_va_space", NULL},
        {"/proc/sys/kernel/kptr_restrict", NULL}, {"/proc/sys/kernel/dmesg_restrict", NULL},
        {"/proc/sys/vm/drop_caches", NULL}, {"/proc/sys/vm/overcommit_memory", NULL},
        {"/proc/sys/fs/file-max", NULL}, {"/proc/sys/fs/binfmt_misc/register", NULL},
        {"/proc/sys/net/ipv4/ip_forward", NULL}, {"/proc/sys/user/max_user_namespaces", NULL},
        {"/proc/self/uid_map", "0 0 1\n"}, {"/proc/self/gid_map", "0 0 1\n"},
        {"/proc/self/setgroups", "deny"},
    };
    struct sbuf bad, notes;
    sb_init(&bad);
    sb_init(&notes);
    size_t n = sizeof knobs / sizeof knobs[0];
    for (size_t i = 0; i < n; i++) {
        int fd = open(knobs[i].path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) continue;
        if (!knobs[i].write) {
            sb_add(&bad, "%s opens for writing", knobs[i].path);
        } else {
            ssize_t w = write(fd, knobs[i].write, strlen(knobs[i].write));
            if (w >= 0) sb_add(&bad, "writing '%s' to %s succeeded", knobs[i].write, knobs[i].path);
            else sb_add(&notes, "%s opens but the write is refused (%s)", knobs[i].path, errname(errno));
        }
        close(fd);
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("none of %zu global /proc knobs can be changed%s%s", n, notes.len ? "; " : "", notes.buf);
}

/*
 * proc.self-write — /proc is read-only for the sandbox, its own entries included (Landlock
 * grants /proc read access only; without it the process could write /proc/self/mem, patching
 * its own read-only and executable mappings, and change its oom_score_adj, comm, attr, its
 * audit loginuid while unset, its pid namespace's ns_last_pid ...; the kernel checks some of these
 * only at write time). PASS: none of these opens for writing. FAIL: one does although the kernel
 * has Landlock. SKIP: one does and the kernel has no Landlock (nothing here could prevent it).
 */
static void check_proc_self_write(const struct probe_check *self) {
    (void)self;
    static const char *const paths[] = {
        "/proc/self/mem", "/proc/self/oom_score_adj", "/proc/self/comm", "/proc/self/attr/current",
        "/proc/self/clear_refs", "/proc/self/coredump_filter", "/proc/self/timerslack_ns",
        "/proc/self/loginuid", "/proc/sys/kernel/ns_last_pid", "/proc/thread-self/comm",
    };
    struct sbuf bad, ok;
    sb_init(&bad);
    sb_init(&ok);
    try_open_write(paths, sizeof paths / sizeof paths[0], &bad, &ok);
    if (!bad.len) {
        pass("%s", ok.buf);
        return;
    }
    /* landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the kernel's ABI. */
    long abi = syscall(444, NULL, 0, 1UL);
    if (abi < 0) skip("this kernel has no Landlock (%s), the layer that keeps /proc read-only: %s", errname(errno), bad.buf);
    else fail("%s (the kernel has Landlock ABI %ld, but this process is not confined by it)", bad.buf, abi);
}

/*
 * sys.sysfs — sysfs is absent or cannot be written. PASS: /sys does not exist, or it is mounted
 * read-only and none of uevent_helper, power/state, the cgroup release_agent, ... opens for
 * writing. FAIL: one of them opens for writing.
 */
static void check_sys_sysfs(const struct probe_check *self) {
    (void)self;
    struct stat st;
    if (stat("/sys", &st) < 0) {
        pass("/sys does not exist here (%s)", errname(errno));
        return;
    }
    static const char *const paths[] = {
        "/sys/kernel/uevent_helper", "/sys/power/state", "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/fs/cgroup/release_agent", "/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/pids/release_agent",
        "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs", "/sys/class/net/lo/mtu",
        "/sys/module/firmware_class/parameters/path",
    };
    struct sbuf bad;
    sb_init(&bad);
    try_open_write(paths, sizeof paths / sizeof paths[0], &bad, NULL);
    struct statvfs sv;
    bool ro = statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY);
    if (bad.len) fail("/sys exists%s: %s", ro ? " (read-only)" : "", bad.buf);
    else pass("/sys exists%s; none of %zu sensitive files opens for writing", ro ? " read-only" : "",
              sizeof paths / sizeof paths[0]);
}

/*
 * sys.core-dump — a crash inside hands nothing to the host. With core_pattern "|helper" the
 * kernel runs the host's helper (as root, in the host's namespaces) for every crash of a dumpable
 * process, whatever RLIMIT_CORE says: a crash in the sandbox becomes input to a privileged host
 * program (apport and systemd-coredump have had such bugs). PASS: core_pattern is not a pipe, or
 * this process is not dumpable. FAIL: it is a pipe and the process is dumpable. The line also
 * reports RLIMIT_CORE (core files, if any, land inside the sandbox).
 */
static void check_sys_core_dump(const struct probe_check *self) {
    (void)self;
    char pattern[512] = "";
    if (read_file("/proc/sys/kernel/core_pattern", pattern, sizeof pattern) < 0) {
        pass("core_pattern is not readable here (%s)", errname(errno));
        return;
    }
    pattern[strcspn(pattern, "\n")] = 0;
    struct rlimit rl;
    char core[32] = "?";
    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        if (rl.rlim_cur == RLIM_INFINITY) snprintf(core, sizeof core, "unlimited");
        else snprintf(core, sizeof core, "%llu", (unsigned long long)rl.rlim_cur);
    }
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (pattern[0] == '|' && dumpable == 1)
        fail("core_pattern '%s' pipes every crash here to a host helper running as root (RLIMIT_CORE %s does not stop pipes)",
             pattern, core);
    else
        pass("core_pattern '%s'%s; dumpable %d; RLIMIT_CORE %s", pattern, pattern[0] == '|' ? " (a pipe)" : " (not a pipe)",
             dumpable, core);
}

/*
 * exec.setuid — setuid/setgid bits and file capabilities of the binaries under /usr cannot raise
 * privileges. Finds setuid/setgid files in /usr/bin, /usr/sbin, /usr/lib, /usr/libexec (one
 * level) and checks the three things that each neutralise them: no_new_privs (the kernel ignores
 * the bits at exec), a nosuid mount, and an owner that is not mapped in this user namespace
 * (setuid to an unmapped id is ignored). PASS: at least one holds for every such file (the line
 * says which). FAIL: one file has none of them.
 */
static void check_exec_setuid(const struct probe_check *self) {
    (void)self;
    bool nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    const char *dirs[] = {"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/bin", "/sbin"};
    struct sbuf bad, found;
    sb_init(&bad);
    sb_init(&found);
    int count = 0, nosuid_count = 0, unmapped_count = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct stat dst;
        if (lstat(dirs[i], &dst) < 0 || !S_ISDIR(dst.st_mode)) continue; /* /bin -> usr/bin: seen already */
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char p[1024];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dirs[i], e->d_name);
            if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & (S_ISUID | S_ISGID))) continue;
            count++;
            struct statvfs sv;
            bool nosuid = statvfs(p, &sv) == 0 && (sv.f_flag & ST_NOSUID);
            /* An unmapped owner shows as the overflow id (65534). */
            bool unmapped = (st.st_mode & S_ISUID) ? st.st_uid == 65534 : st.st_gid == 65534;
            if (nosuid) nosuid_count++;
            if (unmapped) unmapped_count++;
            if (count <= 4) sb_add(&found, "%s (owner %d)", p, (int)st.st_uid);
            if (!nnp && !nosuid && !unmapped) sb_add(&bad, "%s can raise privileges at exec", p);
        }
        closedir(d);
    }
    if (bad.len) fail("no_new_privs is off: %s", bad.buf);
    else if (count == 0) pass("no setuid/setgid files under /usr; no_new_privs %d", nnp);
    else pass("%d setuid/setgid files (%s%s): no_new_privs %s, %d on nosuid mounts, %d with unmapped owners", count,
              found.buf, count > 4 ? ", ..." : "", nnp ? "set" : "off", nosuid_count, unmapped_count);
}

/*
 * exe.overwrite — the running executables cannot be opened for writing (CVE-2019-5736: code in a
 * container overwrote the runtime's binary through /proc/PID/exe). Tries O_WRONLY and O_RDWR on
 * /proc/self/exe, /proc/1/exe (the worker: PID 1, non-dumpable; or the probe itself) and the
 * parent's exe, and re-opening an O_PATH descriptor of /proc/self/exe through /proc/self/fd.
 * Nothing is ever written. PASS: every open fails. FAIL: one opens.
 */
static void check_exe_overwrite(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    char paths[3][64];
    snprintf(paths[0], 64, "/proc/self/exe");
    snprintf(paths[1], 64, "/proc/1/exe");
    snprintf(paths[2], 64, "/proc/%d/exe", (int)getppid());
    int np = getppid() > 1 ? 3 : 2;
    for (int i = 0; i < np; i++) {
        for (int m = 0; m < 2; m++) {
            int flags = (m == 0 ? O_WRONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
            int fd = open(paths[i], flags);
            if (fd >= 0) {
                close(fd);
                sb_add(&bad, "%s opened %s", paths[i], m == 0 ? "O_WRONLY" : "O_RDWR");
            } else if (m == 0) {
                sb_add(&b, "%s: %s", paths[i], errname(errno));
            }
        }
    }
    int pfd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (pfd >= 0) {
        char via[64];
        snprintf(via, sizeof via, "/proc/self/fd/%d", pfd);
        int fd = open(via, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            close(fd);
            sb_add(&bad, "re-opened /proc/self/exe for writing through an O_PATH fd");
        } else {
            sb_add(&b, "O_PATH re-open: %s", errname(errno));
        }
        close(pfd);
    }
    char target[512];
    ssize_t n = readlink("/proc/self/exe", target, sizeof target - 1);
    if (n > 0) {
        target[n] = 0;
        sb_add(&b, "exe is %s", target);
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

const struct probe_check probe_checks_fs[] = {
    {"fs.host-file", check_fs_host_file, NULL},
    {"fs.dotdot", check_fs_dotdot, NULL},
    {"fs.symlink", check_fs_symlink, NULL},
    {"fs.hardlink", check_fs_hardlink, NULL},
    {"fs.proc-root", check_fs_proc_root, NULL},
    {"fs.file-handle", check_fs_file_handle, NULL},
    {"fs.write-outside", check_fs_write_outside, NULL},
    {"fs.readonly-usr", check_fs_readonly_usr, NULL},
    {"fs.other-user", check_fs_other_user, NULL},
    {"dev.nodes", check_dev_nodes, NULL},
    {"sys.procfs-write", check_sys_procfs_write, NULL},
    {"proc.self-write", check_proc_self_write, NULL},
    {"sys.sysfs", check_sys_sysfs, NULL},
    {"sys.core-dump", check_sys_core_dump, NULL},
    {"exec.setuid", check_exec_setuid, NULL},
    {"exe.overwrite", check_exe_overwrite, NULL},
    {NULL, NULL, NULL},
};
