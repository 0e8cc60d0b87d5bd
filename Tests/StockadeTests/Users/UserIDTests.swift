import Testing
@testable import Stockade

@Suite("user ids and file names")
struct UserIDTests {
    @Test("valid user ids are accepted", arguments: ["a", "Alice", "0abc", "user-1", "u.s_e-r", "A.", String(repeating: "x", count: 64)])
    func validUserIDs(_ raw: String) throws {
        #expect(try UserID(raw).rawValue == raw)
    }

    @Test("bad user ids are refused with a message naming the pattern",
          arguments: ["", ".", "..", ".hidden", "-x", "_x", "a/b", "../x", "/abs", "a b", "a\u{0}b", "a\nb", "é", "x\u{7f}",
                      String(repeating: "x", count: 65)])
    func badUserIDs(_ raw: String) {
        let error = #expect(throws: UserDataError.self) { try UserID(raw) }
        guard case let .invalidUserID(reported, reason)? = error else {
            Issue.record("expected invalidUserID, got \(String(describing: error))")
            return
        }
        #expect(reported == raw)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains(UserID.pattern) == true)
        #expect(error?.description.contains("\u{0}") == false, "control characters are escaped in messages")
    }

    @Test("valid file names are accepted", arguments: ["report.csv", "data 1.txt", "ünïcode.txt", "a..b", "x-", String(repeating: "n", count: 255)])
    func validFileNames(_ raw: String) throws {
        #expect(try FileName(raw).rawValue == raw)
    }

    @Test("hostile file names are refused",
          arguments: ["", ".", "..", "../etc/passwd", "/etc/passwd", "a/b", "sub/", ".hidden", ".stockade-tmp-1",
                      "a\u{0}b", "a\nb", "tab\there", "bell\u{7}", "del\u{7f}", "c1\u{85}x", String(repeating: "n", count: 256),
                      String(repeating: "é", count: 128)])
    func hostileFileNames(_ raw: String) {
        let error = #expect(throws: UserDataError.self) { try FileName(raw) }
        guard case .invalidFileName(raw, _)? = error else {
            Issue.record("expected invalidFileName, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("invalid file name") == true)
    }
}
