import ArgumentParser
import Glibc
import Stockade

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host supports and whether Stockade can run here."
    )

    func run() throws {
        let report = HostReport.probe(spawnTest: true)
        print("Stockade \(StockadeVersion.string) on Linux \(report.kernel)")
        for check in report.checks {
            let mark = check.ok ? "ok  " : (check.required ? "FAIL" : "warn")
            print("[\(mark)] \(check.name): \(check.detail)")
            if !check.ok { print("       fix: \(check.fix)") }
        }
        if report.ready {
            print("verdict: ready — sandboxes can be created with full isolation on this host")
        } else {
            print("verdict: NOT READY — fix the FAIL lines above")
            throw ExitCode(1)
        }
    }
}
