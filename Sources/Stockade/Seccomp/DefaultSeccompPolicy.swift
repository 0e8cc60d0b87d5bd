/// Stockade's default seccomp policy: allow by default, deny the kernel attack surface that
/// untrusted code has no business with. Designed from what attackers use; each rule says why.
///
/// Denied calls return EPERM, except where the C library falls back on a specific errno: clone3
/// returns ENOSYS (glibc then uses clone, which is filtered by flags), and socket families other
/// than unix/inet/inet6 return EAFNOSUPPORT (what programs expect of a missing family).
/// Syscalls from other architectures (32-bit x86 via int 0x80, x32) kill the process.
extension SeccompPolicy {
    public static let `default` = SeccompPolicy(
        defaultAction: .allow,
        badArchAction: .killProcess,
        rules: DefaultSeccompRules.all
    )
}

enum DefaultSeccompRules {
    static let EPERM: Int32 = 1
    static let ENOSYS: Int32 = 38
    static let EAFNOSUPPORT: Int32 = 97

    // Namespace-creating clone/unshare flags.
    static let namespaceFlags: [(String, UInt64)] = [
        ("CLONE_NEWNS", 0x0002_0000), ("CLONE_NEWCGROUP", 0x0200_0000), ("CLONE_NEWUTS", 0x0400_0000),
        ("CLONE_NEWIPC", 0x0800_0000), ("CLONE_NEWUSER", 0x1000_0000), ("CLONE_NEWPID", 0x2000_0000),
        ("CLONE_NEWNET", 0x4000_0000),
    ]
    static let CLONE_NEWTIME: UInt64 = 0x80

    static var all: [SeccompRule] {
        var rules: [SeccompRule] = [
            SeccompRule(["add_key", "request_key", "keyctl"], .errno(EPERM),
                        reason: "kernel keyrings: not namespaced, a long history of privilege escalations"),
            SeccompRule(["bpf"], .errno(EPERM),
                        reason: "eBPF programs and maps: verifier bugs give kernel code execution"),
            SeccompRule(["perf_event_open"], .errno(EPERM),
                        reason: "performance events: side channels and kernel bugs"),
            SeccompRule(["userfaultfd"], .errno(EPERM),
                        reason: "userfaultfd stalls kernel page faults, a standard exploit primitive for races"),
            SeccompRule(["init_module", "finit_module", "delete_module", "create_module",
                         "query_module", "get_kernel_syms"], .errno(EPERM),
                        reason: "kernel modules"),
            SeccompRule(["kexec_load", "kexec_file_load", "reboot"], .errno(EPERM),
                        reason: "replacing or rebooting the kernel"),
            SeccompRule(["swapon", "swapoff"], .errno(EPERM), reason: "swap devices"),
            SeccompRule(["acct"], .errno(EPERM), reason: "process accounting"),
            SeccompRule(["settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime"], .errno(EPERM),
                        reason: "setting the clock: the clock is not namespaced"),
            SeccompRule(["mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree",
                         "fsopen", "fsconfig", "fsmount", "fspick"], .errno(EPERM),
                        reason: "mounting: the sandbox's mount table is fixed"),
            SeccompRule(["pivot_root", "chroot"], .errno(EPERM), reason: "changing the root"),
            SeccompRule(["syslog"], .errno(EPERM), reason: "reading the kernel log leaks addresses"),
            SeccompRule(["iopl", "ioperm"], .errno(EPERM), reason: "raw I/O port access"),
            SeccompRule(["quotactl", "quotactl_fd"], .errno(EPERM), reason: "disk quotas"),
            SeccompRule(["name_to_handle_at", "open_by_handle_at"], .errno(EPERM),
                        reason: "file handles open files by inode, bypassing paths (the 'shocker' escape)"),
            SeccompRule(["io_uring_setup", "io_uring_enter", "io_uring_register"], .errno(EPERM),
                        reason: "io_uring: a large, frequently exploited kernel surface that also bypasses seccomp for its operations"),
            SeccompRule(["ptrace", "process_vm_readv", "process_vm_writev", "process_madvise"], .errno(EPERM),
                        reason: "inspecting or writing other processes' memory"),
            SeccompRule(["kcmp"], .errno(EPERM), reason: "comparing kernel objects leaks kernel pointers' order"),
            SeccompRule(["pidfd_getfd"], .errno(EPERM), reason: "stealing other processes' file descriptors"),
            SeccompRule(["modify_ldt"], .errno(EPERM), reason: "local descriptor tables: old kernel bugs"),
            SeccompRule(["setns"], .errno(EPERM), reason: "joining other namespaces"),
            SeccompRule(["clone3"], .errno(ENOSYS),
                        reason: "clone3 passes flags in memory seccomp cannot inspect; ENOSYS makes glibc fall back to clone, which is filtered"),
            SeccompRule(["lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
                         "vm86", "vm86old", "afs_syscall", "vhangup"], .errno(EPERM),
                        reason: "obsolete interfaces with no use in a sandbox"),
            SeccompRule(["fanotify_init"], .errno(EPERM), reason: "filesystem-wide event monitoring"),
            SeccompRule(["mbind", "set_mempolicy", "migrate_pages", "move_pages"], .errno(EPERM),
                        reason: "NUMA memory placement affects other tenants"),
            SeccompRule(["memfd_secret"], .errno(EPERM), reason: "secret memory hidden even from the kernel's own checks"),
        ]
        // Resource controls on other processes: a request runs as its worker's uid, so without
        // these it could lower the worker's limits or priority and break the user's later requests.
        // Calls on the caller itself (pid 0) stay allowed.
        let otherProcess = "changing another process's limits, priority or CPU affinity (a request could cripple its worker)"
        rules.append(SeccompRule(["prlimit64"], .errno(EPERM), args: [SeccompArgument(index: 0, op: .ne, value: 0)], reason: otherProcess))
        rules.append(SeccompRule(["sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"], .errno(EPERM),
                                 args: [SeccompArgument(index: 0, op: .ne, value: 0)], reason: otherProcess))
        rules.append(SeccompRule(["setpriority", "ioprio_set"], .errno(EPERM), args: [SeccompArgument(index: 1, op: .ne, value: 0)], reason: otherProcess))
        for (name, flag) in namespaceFlags {
            rules.append(SeccompRule(["clone", "unshare"], .errno(EPERM),
                                     args: [.masked(0, mask: flag, equals: flag)],
                                     reason: "creating namespaces (\(name)): nested namespaces widen the kernel surface"))
        }
        rules.append(SeccompRule(["unshare"], .errno(EPERM), args: [.masked(0, mask: CLONE_NEWTIME, equals: CLONE_NEWTIME)],
                                 reason: "creating namespaces (CLONE_NEWTIME)"))
        // ioctl's command is an unsigned int: compare only the low 32 bits, or a caller could set
        // high bits the kernel then ignores.
        rules.append(SeccompRule(["ioctl"], .errno(EPERM), args: [.masked(1, mask: 0xffff_ffff, equals: 0x5412)],
                                 reason: "TIOCSTI pushes characters into a terminal's input (injection into the parent's shell)"))
        rules.append(SeccompRule(["ioctl"], .errno(EPERM), args: [.masked(1, mask: 0xffff_ffff, equals: 0x541C)],
                                 reason: "TIOCLINUX also injects terminal input and reads the console"))
        // Socket families: allow AF_UNIX (1), AF_INET (2), AF_INET6 (10). Any value whose low 32
        // bits are another family is either >= 11 as a whole or one of 0, 3...9.
        var badFamilies: [SeccompArgument] = [SeccompArgument(index: 0, op: .eq, value: 0)]
        for family in UInt64(3)...9 { badFamilies.append(SeccompArgument(index: 0, op: .eq, value: family)) }
        for cond in badFamilies {
            rules.append(SeccompRule(["socket", "socketpair"], .errno(EAFNOSUPPORT), args: [cond],
                                     reason: "socket families other than unix, inet and inet6"))
        }
        rules.append(SeccompRule(["socket", "socketpair"], .errno(EAFNOSUPPORT), args: [SeccompArgument(index: 0, op: .gt, value: 10)],
                                 reason: "socket families other than unix, inet and inet6: netlink, packet, vsock (not scoped by network namespaces: it reaches the VM's host), bluetooth, ..."))
        // personality: deny flags that weaken ASLR or make data executable, keep PER_LINUX (0),
        // PER_LINUX32 (8), UNAME26 (0x20000) and the query 0xffffffff. libseccomp takes one
        // condition per argument per rule, so the set is written as masks: values with high bits,
        // values with bit 31 that are not the query (some other bit is clear), and each bad flag.
        let reasonP = "personality flags that weaken memory protections (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, ...)"
        rules.append(SeccompRule(["personality"], .errno(EPERM), args: [SeccompArgument(index: 0, op: .gt, value: 0xffff_ffff)], reason: reasonP))
        for bit in 0..<31 {
            let b = UInt64(1) << UInt64(bit)
            rules.append(SeccompRule(["personality"], .errno(EPERM), args: [.masked(0, mask: 0x8000_0000 | b, equals: 0x8000_0000)], reason: reasonP))
        }
        for bad: UInt64 in [0x0040000, 0x0100000, 0x0200000, 0x0400000, 0x0800000, 0x8000000] {
            rules.append(SeccompRule(["personality"], .errno(EPERM), args: [.masked(0, mask: bad | 0x8000_0000, equals: bad)], reason: reasonP))
        }
        return rules
    }
}
