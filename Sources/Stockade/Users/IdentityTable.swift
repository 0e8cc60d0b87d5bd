/// The parsed contents of the identity file: `userid<TAB>uid` lines, `#` comments and blank
/// lines ignored. Entries are only ever appended, so parsing can continue where it stopped.
struct IdentityTable: Sendable {
    private(set) var uidByUser: [UserID: UInt32] = [:]
    private(set) var userByUID: [UInt32: UserID] = [:]
    /// Lines parsed so far (for line numbers of later lines).
    private(set) var lineCount = 0
    /// Bytes parsed so far: always at the end of a complete line.
    private(set) var parsedBytes = 0

    /// Parse `bytes` (the file from `parsedBytes` on). A final line without a newline is an
    /// incomplete append (a crash mid-write, never confirmed to anyone): it is left unparsed and
    /// reported through the return value (its byte count).
    @discardableResult
    mutating func parse(_ bytes: ArraySlice<UInt8>, path: String) throws(UserDataError) -> Int {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lineCount += 1
            try parseLine(bytes[start..<newline], number: lineCount, path: path)
            parsedBytes += newline - start + 1
            start = newline + 1
        }
        return bytes.endIndex - start
    }

    private mutating func parseLine(_ line: ArraySlice<UInt8>, number: Int, path: String) throws(UserDataError) {
        if line.isEmpty || line.first == UInt8(ascii: "#") { return }
        let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
        guard fields.count == 2 else {
            throw .corruptIdentityFile(path: path, line: number, reason: "expected 2 tab-separated fields, found \(fields.count)")
        }
        let rawUser = String(decoding: fields[0], as: UTF8.self)
        let user: UserID
        do { user = try UserID(rawUser) } catch {
            throw .corruptIdentityFile(path: path, line: number, reason: "'\(UserDataError.printable(rawUser))' is not a valid user id")
        }
        let rawUID = String(decoding: fields[1], as: UTF8.self)
        guard let uid = UInt32(rawUID), uid != UInt32.max else {
            throw .corruptIdentityFile(path: path, line: number, reason: "'\(UserDataError.printable(rawUID))' is not a uid")
        }
        guard uid >= IdentityAllocator.minimumUID else {
            throw .corruptIdentityFile(path: path, line: number, reason: "uid \(uid) is below \(IdentityAllocator.minimumUID), a privileged or system id")
        }
        if let previous = uidByUser[user] {
            throw .corruptIdentityFile(path: path, line: number, reason: "user '\(user)' already has uid \(previous) on an earlier line")
        }
        if let owner = userByUID[uid] {
            throw .corruptIdentityFile(path: path, line: number, reason: "uid \(uid) already belongs to user '\(owner)' on an earlier line")
        }
        uidByUser[user] = uid
        userByUID[uid] = user
    }

    /// The next free uid of `range`: after the highest one in use there, else the lowest free one.
    func nextFree(in range: Range<UInt32>) -> UInt32? {
        let inRange = userByUID.keys.filter { range.contains($0) }
        if let highest = inRange.max() {
            if highest + 1 < range.upperBound { return highest + 1 }
        } else if !range.isEmpty {
            return range.lowerBound
        }
        guard inRange.count < range.count else { return nil }
        var uid = range.lowerBound
        while uid < range.upperBound {
            if userByUID[uid] == nil { return uid }
            uid += 1
        }
        return nil
    }

    static func line(user: UserID, uid: UInt32) -> [UInt8] {
        Array("\(user.rawValue)\t\(uid)\n".utf8)
    }
}
