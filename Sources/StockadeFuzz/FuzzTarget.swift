import StockadeProtocol

/// One fuzz input through everything that decodes bytes from outside: the JSON parser, the
/// JSON-RPC message decoder (what the host reads from a worker and a worker from the host), the
/// line splitter, and the execute request validation (the body of POST /v1/execute). Nothing may
/// crash, and whatever parses must survive a round trip unchanged.
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    if let value = try? JSONParser.parse(bytes) {
        let written = JSONWriter.encode(value)
        precondition(!written.contains(0x0a), "the writer emitted a raw newline")
        guard let again = try? JSONParser.parse(written) else { preconditionFailure("written JSON does not parse") }
        precondition(again == value, "JSON round trip changed the value")
        _ = try? ExecuteParams(json: value)
        _ = try? ExecutionLimits(json: value["limits"])
        _ = ExecutionResult(json: value)
    }
    switch RPCMessage.decode(bytes) {
    case let .message(message):
        let line = message.encodedLine()
        precondition(line.last == 0x0a && line.dropLast().allSatisfy { $0 != 0x0a })
        guard case let .message(back) = RPCMessage.decode(Array(line.dropLast())) else { preconditionFailure("encoded message does not decode") }
        precondition(back == message, "JSON-RPC round trip changed the message")
    case let .invalid(error, _):
        precondition(error.code < 0)
    }
    var lines = LineBuffer(maxLineBytes: 64)
    lines.append(bytes)
    while lines.nextLine() != nil {}
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> Int32

/// SwiftPM links an executable's entry point under this name: hand control to libFuzzer.
@_cdecl("StockadeFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args) { data, size in
        fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
#else
import Glibc

/// Without libFuzzer: replay the files given (the committed corpus) through the same checks.
@main
struct Replay {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in files(path) {
                guard let bytes = read(file) else { continue }
                bytes.withUnsafeBytes { fuzzOne($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs: no crash")
    }

    static func files(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(path + "/" + name) }
        }
        return out.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
#endif
