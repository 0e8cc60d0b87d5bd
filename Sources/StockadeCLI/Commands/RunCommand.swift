import ArgumentParser
import Glibc
import Stockade

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one command in a fresh sandbox.",
        discussion: """
        Stdio is passed through. The exit status is the command's, 128+N if it was killed by signal N, \
        and 125 if Stockade itself failed (the reason goes to stderr).

        Defaults: every namespace unshared (user, pid, mount, net, ipc, uts, cgroup), no network but \
        loopback, an empty environment except PATH/HOME/LANG, /usr read-only (with the host's /bin, /lib, \
        /lib64, /sbin links), a writable /tmp tmpfs, working directory /tmp, the default seccomp policy \
        and Landlock where the kernel has it.

        Example: stockade run --memory 256M --wall-time 5 -- python3 -c 'print(1)'
        """
    )

    @Option(name: .customLong("ro-bind"), help: ArgumentHelp("Bind a host path read-only.", valueName: "SRC[:DST]"))
    var roBinds: [String] = []
    @Option(name: .customLong("bind"), help: ArgumentHelp("Bind a host path read-write.", valueName: "SRC[:DST]"))
    var binds: [String] = []
    @Option(name: .customLong("tmpfs"), help: ArgumentHelp("Mount a tmpfs (default size 64M).", valueName: "DST[:SIZE]"))
    var tmpfs: [String] = []
    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable.", valueName: "NAME=VALUE"))
    var env: [String] = []
    @Option(name: .customLong("cwd"), help: "Working directory inside the sandbox (default /tmp, or /home/user with --user).")
    var cwdOption: String?
    var cwd: String { cwdOption ?? "/tmp" }
    var cwdGiven: Bool { cwdOption != nil }
    @Option(name: .customLong("hostname"), help: "Hostname inside the sandbox.")
    var hostname: String = "sandbox"
    @Option(name: .customLong("memory"), help: ArgumentHelp("Memory limit (cgroup), e.g. 256M.", valueName: "SIZE"))
    var memory: String?
    @Option(name: .customLong("pids"), help: "Process limit (RLIMIT_NPROC and pids cgroup).")
    var pids: UInt64?
    @Option(name: .customLong("cpu-time"), help: ArgumentHelp("CPU time limit (RLIMIT_CPU).", valueName: "SECONDS"))
    var cpuTime: UInt64?
    @Option(name: .customLong("wall-time"), help: ArgumentHelp("Wall-clock limit; the sandbox is killed at it.", valueName: "SECONDS"))
    var wallTime: Double?
    @Option(name: .customLong("nofile"), help: "Open file limit (RLIMIT_NOFILE).")
    var nofile: UInt64?
    @Option(name: .customLong("fsize"), help: ArgumentHelp("Largest file the command may write (RLIMIT_FSIZE).", valueName: "SIZE"))
    var fsize: String?
    @Flag(name: .customLong("share-net"), help: "Keep the host's network namespace (default: only a private loopback).")
    var shareNet = false
    @Flag(name: .customLong("no-seccomp"), help: "Load no seccomp filter (for testing what it blocks).")
    var noSeccomp = false
    @Option(name: .customLong("seccomp-policy"), help: ArgumentHelp("Load this JSON seccomp policy instead of the default.", valueName: "FILE"))
    var seccompPolicy: String?
    @Flag(name: .customLong("no-landlock"), help: "Do not apply Landlock rules.")
    var noLandlock = false
    @Option(name: .customLong("result"), help: ArgumentHelp("Write the result as JSON to FILE.", valueName: "FILE"))
    var result: String?
    @Option(name: .customLong("user"), help: ArgumentHelp("Run in this Stockade user's sandbox: their host identity, their directories (work at /home/user, outputs at /outputs, uploads read-only at /uploads), their environment.", valueName: "ID"))
    var user: String?
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory holding users' directories and identities (with --user; env STOCKADE_DATA_DIR).", valueName: "DIR"))
    var dataDir: String?
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments (after --).", valueName: "COMMAND"))
    var command: [String] = []

    func run() throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else {
            fail("no command given: use stockade run [OPTIONS] -- COMMAND [ARG...]")
        }
        let spec: SandboxSpec
        do {
            spec = try buildSpec(argv)
        } catch {
            fail("\(error)")
        }
        let process: SandboxProcess
        do {
            process = try Sandbox.spawnBlocking(spec)
        } catch {
            fail("\(error)")
        }
        // Ctrl-C and termination go to the sandbox, not to us: the sandbox decides, we report.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let outcome = process.waitBlocking()
        if let result {
            do {
                try ResultFile.write(outcome, to: result)
            } catch {
                fail("cannot write --result \(result): \(error)")
            }
        }
        Glibc.exit(outcome.shellExitCode)
    }

    private func buildSpec(_ argv: [String]) throws -> SandboxSpec {
        var spec = SandboxSpec(arguments: argv)
        if let user {
            let dir = dataDir ?? ProcessInfoLite.environment("STOCKADE_DATA_DIR") ?? ProcessInfoLite.absolute("data")
            var settings = UserSandboxSettings(dataDirectory: ProcessInfoLite.absolute(dir))
            // `run` applies only the limits given on its own command line.
            settings.workerMemoryBytes = nil
            settings.workerPids = nil
            settings.allowedEnvironment = ProcessInfoLite.environment("STOCKADE_ALLOWED_ENV") ?? ""
            settings.explicitlyAllowedEnvironment = ProcessInfoLite.environment("STOCKADE_ALLOWED_SECRET_ENV") ?? ""
            spec = try UserSandboxes(settings: settings).sandboxSpec(for: try UserID(user), arguments: argv)
        } else if dataDir != nil {
            throw CLIError.usage("--data-dir goes with --user")
        }
        for e in env {
            guard let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                throw CLIError.usage("--env takes NAME=VALUE, got '\(e)'")
            }
            spec.environment[String(e[..<eq])] = String(e[e.index(after: eq)...])
        }
        for b in roBinds { spec.mounts.append(try MountArgument.bind(b, readOnly: true)) }
        for b in binds { spec.mounts.append(try MountArgument.bind(b, readOnly: false)) }
        for t in tmpfs { spec.mounts.append(try MountArgument.tmpfs(t)) }
        if user == nil || cwdGiven { spec.workingDirectory = cwd }
        spec.hostname = hostname
        if let memory {
            guard let bytes = SizeParser.bytes(memory) else { throw CLIError.usage("--memory '\(memory)' is not a size such as 256M") }
            spec.limits.memoryBytes = bytes
        }
        if let fsize {
            guard let bytes = SizeParser.bytes(fsize) else { throw CLIError.usage("--fsize '\(fsize)' is not a size such as 10M") }
            spec.limits.fileSizeBytes = bytes
        }
        spec.limits.pids = pids
        spec.limits.cpuSeconds = cpuTime
        if let wallTime, wallTime <= 0 { throw CLIError.usage("--wall-time must be positive") }
        spec.limits.wallSeconds = wallTime
        spec.limits.openFiles = nofile
        if shareNet { spec.namespaces.remove(.network) }
        if noSeccomp { spec.seccomp = nil }
        if let seccompPolicy { spec.seccomp = try PolicyFile.load(seccompPolicy) }
        spec.landlock = noLandlock ? nil : .automatic
        spec.stdin = .inherit
        return spec
    }
}

/// Report Stockade's own failure and exit 125.
func fail(_ message: String) -> Never {
    var text = "stockade: " + message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    Glibc.exit(125)
}
