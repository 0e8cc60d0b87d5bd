import Glibc
import Testing
@testable import Stockade

@Suite("host identity allocation")
struct IdentityAllocatorTests {
    @Test("each user gets a distinct unprivileged uid == gid from the range, the same one every time")
    func distinctAndStable() throws {
        let dir = TempDir("ids"); defer { dir.remove() }
        let allocator = try IdentityAllocator(dataDirectory: dir.path)
        let alice = try allocator.identity(for: UserID("alice"))
        let bob = try allocator.identity(for: UserID("bob"))
        #expect(alice.hostUID == IdentityAllocator.defaultRange.lowerBound)
        #expect(bob.hostUID == alice.hostUID + 1)
        #expect(alice.hostUID == alice.hostGID && bob.hostUID == bob.hostGID)
        #expect(alice.insideUID == 1000 && alice.insideGID == 1000)
        #expect(try allocator.identity(for: UserID("alice")) == alice)
        #expect(try allocator.existingIdentity(for: UserID("carol")) == nil, "looking up does not allocate")
        #expect(try allocator.allIdentities().count == 2)
        let text = UsersFS.read(dir.sub("identities.tsv")) ?? ""
        #expect(text.contains("alice\t\(alice.hostUID)\n"))
        #expect(text.contains("bob\t\(bob.hostUID)\n"))
        #expect(UsersFS.mode(dir.sub("identities.tsv")) == 0o600)
    }

    @Test("allocations survive a restart and uids are never reused")
    func survivesRestart() throws {
        let dir = TempDir("ids-restart"); defer { dir.remove() }
        var first: [UserID: Identity] = [:]
        do {
            let allocator = try IdentityAllocator(dataDirectory: dir.path)
            for name in ["u1", "u2", "u3"] { first[try UserID(name)] = try allocator.identity(for: UserID(name)) }
        }
        let reopened = try IdentityAllocator(dataDirectory: dir.path)
        for (user, identity) in first {
            #expect(try reopened.existingIdentity(for: user) == identity)
            #expect(try reopened.identity(for: user) == identity)
        }
        let fresh = try reopened.identity(for: UserID("u4"))
        #expect(!first.values.contains { $0.hostUID == fresh.hostUID })
        // Removing a user's data keeps the allocation: the uid stays theirs.
        let dirs = try UserDirectories(dataDirectory: dir.path)
        try dirs.remove(user: UserID("u1"))
        let again = try IdentityAllocator(dataDirectory: dir.path)
        #expect(try again.identity(for: UserID("u1")) == first[try UserID("u1")])
        #expect(try again.identity(for: UserID("u5")).hostUID == fresh.hostUID + 1)
    }

    @Test("two allocators on the same file racing 200 users never give one uid to two users")
    func concurrentAllocators() async throws {
        let dir = TempDir("ids-race"); defer { dir.remove() }
        let a = try IdentityAllocator(dataDirectory: dir.path)
        let b = try IdentityAllocator(dataDirectory: dir.path)
        let users = try (0..<200).map { try UserID("user\($0)") }
        let results = try await withThrowingTaskGroup(of: (UserID, Identity, Int).self) { group in
            for (index, user) in users.enumerated() {
                // Each user is asked for on both instances; the order alternates.
                for (which, allocator) in (index % 2 == 0 ? [(0, a), (1, b)] : [(1, b), (0, a)]) {
                    group.addTask { (user, try allocator.identity(for: user), which) }
                }
            }
            var out: [(UserID, Identity, Int)] = []
            for try await result in group { out.append(result) }
            return out
        }
        var byUser: [UserID: Identity] = [:]
        for (user, identity, _) in results {
            if let known = byUser[user] {
                #expect(known == identity, "both allocators must agree on \(user)")
            } else {
                byUser[user] = identity
            }
        }
        #expect(byUser.count == 200)
        #expect(Set(byUser.values.map(\.hostUID)).count == 200, "no uid handed to two users")
        #expect(byUser.values.allSatisfy { IdentityAllocator.defaultRange.contains($0.hostUID) })
        let reloaded = try IdentityAllocator(dataDirectory: dir.path).allIdentities()
        #expect(reloaded == byUser)
        let lines = (UsersFS.read(dir.sub("identities.tsv")) ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.count == 200, "each user appended exactly once")
    }

    @Test("unsafe ranges are refused", arguments: [0 ..< 100_000, 1000 ..< 70_000, 65_535 ..< 70_000, 70_000 ..< 70_000, 999_000 ..< 1_001_000] as [Range<UInt32>])
    func badRanges(_ range: Range<UInt32>) {
        let dir = TempDir("ids-range"); defer { dir.remove() }
        let error = #expect(throws: UserDataError.self) { try IdentityAllocator(dataDirectory: dir.path, range: range) }
        guard case .invalidIdentityRange? = error else {
            Issue.record("expected invalidIdentityRange, got \(String(describing: error))")
            return
        }
    }

    @Test("an exhausted range is a clear error and allocates nothing")
    func exhaustion() throws {
        let dir = TempDir("ids-full"); defer { dir.remove() }
        let allocator = try IdentityAllocator(dataDirectory: dir.path, range: 100_000 ..< 100_003)
        let uids = try ["a", "b", "c"].map { try allocator.identity(for: UserID($0)).hostUID }
        #expect(uids == [100_000, 100_001, 100_002])
        let error = #expect(throws: UserDataError.self) { try allocator.identity(for: UserID("d")) }
        #expect(error == .identityRangeExhausted(lower: 100_000, upper: 100_003, file: dir.sub("identities.tsv")))
        #expect(error?.description.contains("larger range") == true)
        #expect(try allocator.identity(for: UserID("a")).hostUID == 100_000, "existing users are unaffected")
    }

    @Test("a corrupt identity file is an error naming the line", arguments: [
        ("alice\t1000000\nthis is not a line\n", 2),
        ("alice\t1000000\nbob\t1000000\n", 2),
        ("alice\t1000000\nalice\t1000001\n", 2),
        ("# header\nroot\t0\n", 2),
        ("../x\t1000000\n", 1),
        ("alice\tlots\n", 1),
        ("alice\t1000000\textra\n", 1),
    ])
    func corruptFile(_ contents: String, _ line: Int) {
        let dir = TempDir("ids-corrupt"); defer { dir.remove() }
        UsersFS.write(dir.sub("identities.tsv"), contents, mode: 0o600)
        let error = #expect(throws: UserDataError.self) { try IdentityAllocator(dataDirectory: dir.path) }
        guard case let .corruptIdentityFile(path, reported, _)? = error else {
            Issue.record("expected corruptIdentityFile, got \(String(describing: error))")
            return
        }
        #expect(path == dir.sub("identities.tsv"))
        #expect(reported == line)
        #expect(error?.description.contains("line \(line)") == true)
    }

    @Test("an incomplete last line (a crash mid-append) is dropped, never handed out half-written")
    func tornLastLine() throws {
        let dir = TempDir("ids-torn"); defer { dir.remove() }
        UsersFS.write(dir.sub("identities.tsv"), "alice\t1000000\nbob\t10", mode: 0o600)
        let allocator = try IdentityAllocator(dataDirectory: dir.path)
        #expect(try allocator.existingIdentity(for: UserID("bob")) == nil)
        #expect(try allocator.identity(for: UserID("bob")).hostUID == 1_000_001)
        #expect(UsersFS.read(dir.sub("identities.tsv")) == "alice\t1000000\nbob\t1000001\n")
    }

    @Test("allocations from an earlier, different range stay with their users")
    func earlierRangeKept() throws {
        let dir = TempDir("ids-old"); defer { dir.remove() }
        UsersFS.write(dir.sub("identities.tsv"), "old\t3000000\n", mode: 0o600)
        let allocator = try IdentityAllocator(dataDirectory: dir.path, range: 2_000_000 ..< 2_000_010)
        #expect(try allocator.identity(for: UserID("old")).hostUID == 3_000_000)
        #expect(try allocator.identity(for: UserID("new")).hostUID == 2_000_000)
    }

    @Test("the identity file must not be a symlink")
    func symlinkedFileRefused() throws {
        let dir = TempDir("ids-link"); defer { dir.remove() }
        UsersFS.write(dir.sub("elsewhere"), "", mode: 0o600)
        #expect(symlink(dir.sub("elsewhere"), dir.sub("identities.tsv")) == 0)
        #expect(throws: UserDataError.self) { try IdentityAllocator(dataDirectory: dir.path) }
        #expect(UsersFS.read(dir.sub("elsewhere")) == "")
    }
}
