import Glibc
import StockadeProtocol

/// One running request: its process, its pipes, what it has written, and how it ended.
final class Execution {
    let id: String
    let requestID: RPCID
    let params: ExecuteParams
    let startedMs: Double
    /// The outputs directory as it was before the execution started.
    var outputsBefore: [String: OutputScanner.Stamp] = [:]
    let deadlineMs: Double
    let wallLimitMs: Int64
    let outputCap: Int

    var pid: Int32 = -1
    var stdoutFD: Int32 = -1
    var stderrFD: Int32 = -1
    var resultFD: Int32 = -1

    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var resultBytes: [UInt8] = []
    var stdoutTruncated = false
    var stderrTruncated = false
    /// Bytes held back from a streamed chunk because they end inside a UTF-8 sequence.
    var carry: [OutputEvent.Stream: [UInt8]] = [:]

    var waitStatus: Int32?
    var usage = rusage()
    var reapedAtMs: Double?
    var endedMs: Double?
    /// Set when the worker stopped it: timeout, output_limit or cancelled.
    var stoppedFor: ExecutionStatus?
    var stopMessage: String?

    init(id: String, requestID: RPCID, params: ExecuteParams, wallLimitMs: Int64, outputCap: Int) {
        self.id = id
        self.requestID = requestID
        self.params = params
        self.wallLimitMs = wallLimitMs
        self.outputCap = outputCap
        startedMs = nowMs()
        deadlineMs = startedMs + Double(wallLimitMs)
    }

    var isRunning: Bool { waitStatus == nil }
    var pipesOpen: Bool { stdoutFD >= 0 || stderrFD >= 0 || resultFD >= 0 }
    var outputCount: Int { stdout.count + stderr.count }

    /// Split `bytes` so the part returned ends on a UTF-8 boundary; the rest waits in `carry`.
    func streamable(_ stream: OutputEvent.Stream, _ bytes: [UInt8], final: Bool) -> String {
        var all = (carry[stream] ?? []) + bytes
        carry[stream] = nil
        if !final {
            var cut = all.count
            // Back up over at most 3 continuation bytes to the start of the last sequence.
            var i = all.count - 1
            var steps = 0
            while i >= 0 && steps < 4 {
                let b = all[i]
                if b & 0xC0 != 0x80 {
                    let need = b < 0x80 ? 1 : (b >> 5 == 0b110 ? 2 : (b >> 4 == 0b1110 ? 3 : (b >> 3 == 0b11110 ? 4 : 1)))
                    if all.count - i < need { cut = i }
                    break
                }
                i -= 1
                steps += 1
            }
            if cut < all.count {
                carry[stream] = Array(all[cut...])
                all.removeSubrange(cut...)
            }
        }
        return String(decoding: all, as: UTF8.self)
    }

    /// The result contract, from how the process ended and what the runner reported.
    func result(files: [OutputFile]) -> ExecutionResult {
        let runner = try? JSONParser.parse(resultBytes)
        var exitCode: Int32?
        var signal: Int32?
        if let s = waitStatus {
            if s & 0x7f == 0 { exitCode = (s >> 8) & 0xff } else { signal = s & 0x7f }
        }
        // The JavaScript runner ends with SIGKILL to itself right after reporting its exit code
        // (skipping V8's teardown): that is an exit, not a signal (user code could write this too, but
        // only about its own result).
        // A kill at a limit stays a kill, whatever the process wrote before it.
        let peakBytes = Int64(usage.ru_maxrss) * 1024
        let nearMemoryLimit = params.limits.memoryBytes.map { peakBytes >= $0 * 9 / 10 } ?? false
        if signal == SIGKILL, stoppedFor == nil, !nearMemoryLimit, let code = runner?["exit_code"]?.intValue, (0...255).contains(code) {
            exitCode = Int32(code)
            signal = nil
        }
        let cpuMs = (Double(usage.ru_utime.tv_sec) + Double(usage.ru_stime.tv_sec)) * 1000
            + (Double(usage.ru_utime.tv_usec) + Double(usage.ru_stime.tv_usec)) / 1000
        let peak = Int64(usage.ru_maxrss) * 1024
        var status: ExecutionStatus
        var message = stopMessage
        let runnerMemory = runner?["memory"]?.boolValue == true
        let memLimit = params.limits.memoryBytes
        let stderrText = String(decoding: stderr.suffix(4096), as: UTF8.self)
        let looksOOM = stderrText.contains("MemoryError") || stderrText.contains("heap out of memory")
            || stderrText.contains("Cannot allocate memory") || stderrText.contains("Allocation failed")
        if let stopped = stoppedFor {
            status = stopped
        } else if runnerMemory || (memLimit != nil && looksOOM) {
            status = .memoryLimit
            message = message ?? "the process ran out of its \(memLimit.map { "\($0) byte " } ?? "")memory limit"
        } else if signal == SIGXCPU || (signal == SIGKILL && params.limits.cpuMs.map { cpuMs >= Double($0) - 5 } == true) {
            status = .timeout
            message = "killed at the CPU time limit of \(params.limits.cpuMs ?? 0) ms (enforced in whole seconds)"
        } else if let signal {
            if let memLimit, signal == SIGKILL || signal == SIGABRT || signal == SIGTRAP || signal == SIGSEGV, peak >= memLimit * 9 / 10 {
                status = .memoryLimit
                message = "killed by signal \(signal) at \(peak) bytes, near the \(memLimit) byte memory limit"
            } else {
                status = .signaled
            }
        } else if exitCode == 0 {
            if params.handler, runner?["ok"]?.boolValue != true {
                status = .runtimeError
                message = message ?? "the handler did not return (the process exited before reporting a value)"
            } else {
                status = .ok
            }
        } else {
            status = .runtimeError
        }
        var error: ExecutionError?
        if runner?["ok"]?.boolValue == false { error = ExecutionError(json: runner?["error"]) }
        let returnValue: JSONValue? = (params.handler && runner?["ok"]?.boolValue == true) ? (runner?["return_value"] ?? .null) : nil
        return ExecutionResult(
            executionID: id, status: status, exitCode: exitCode, signal: signal,
            wallMs: (endedMs ?? nowMs()) - startedMs, cpuMs: cpuMs, peakMemoryBytes: peak,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
            stdoutTruncated: stdoutTruncated, stderrTruncated: stderrTruncated,
            returnValue: status == .ok ? returnValue : nil, error: error, files: files, message: message)
    }
}
