import Stockade

/// `stockade bench spawn`: one sandbox running /bin/true, from spawn to reaped, with full
/// isolation (every namespace including net and user, pivot_root, seccomp, Landlock), against
/// bwrap with a comparable configuration and the fork/exec floor, interleaved.
public enum SpawnBench {
    public static func run(_ settings: BenchSettings) async -> BenchReport {
        Sandbox.prime()
        let bwrap = BwrapPeer()
        var contenders: [Contender] = [
            Contender(tool: "stockade-api") {
                var spec = SandboxSpec(arguments: ["/bin/true"])
                spec.stdout = .null
                spec.stderr = .null
                spec.landlock = .automatic
                let p = try await Sandbox.spawn(spec)
                let o = await p.wait()
                guard o.termination == .exited(0) else { throw ExternalCommand.Failure(description: "/bin/true: \(o.termination)") }
            },
            Contender(tool: "stockade-cli") {
                try ExternalCommand(settings.stockadeExecutable, ["run", "--", "/bin/true"]).run()
            },
        ]
        if let bwrap {
            contenders.append(Contender(tool: "bwrap") { try bwrap.command(["/bin/true"]).run() })
        } else {
            contenders.append(.skipped("bwrap", BwrapPeer.skipReason))
        }
        contenders.append(Contender(tool: "fork-exec") { try ExternalCommand("/bin/true", []).run() })
        contenders += OCIPeers.spawnContenders()
        let runner = settings.runner(warmup: 20, iterations: 200)
        var report = await runner.run("spawn", contenders)
        if let bwrap { report.host["bwrap"] = bwrap.version }
        return report
    }
}

/// crun and firejail, where installed (issue 7 widens them); reported as skipped otherwise.
public enum OCIPeers {
    public static func spawnContenders() -> [Contender] {
        var out: [Contender] = []
        if let crun = CrunPeer() {
            out.append(Contender(tool: "crun") { try crun.run(["/bin/true"]) })
            if crun.namespaceHolder != nil {
                // What the nsenter in front of crun costs by itself.
                out.append(Contender(tool: "nsenter-true") { try crun.wrapped(["/bin/true"]).run() })
            }
        } else {
            out.append(.skipped("crun", CrunPeer.unavailableReason))
        }
        if let firejail = ExternalCommand.find("firejail") {
            out.append(Contender(tool: "firejail") {
                try ExternalCommand(firejail, ["--quiet", "--noprofile", "--net=none", "--private-tmp", "--caps.drop=all",
                                               "--nonewprivs", "--seccomp", "/bin/true"]).run()
            })
        } else {
            out.append(.skipped("firejail", "firejail is not installed (apt-get install firejail; scripts/bench installs it)"))
        }
        return out
    }
}
