import Glibc

/// Which files an execution left in the outputs directory: a snapshot (path → size, mtime,
/// inode) taken before it starts, compared with one taken after it ends. Comparing timestamps
/// alone misattributes files written moments before a request started. Bounded in depth and count.
enum OutputScanner {
    struct Stamp: Equatable {
        var size: Int64
        var mtimeSeconds: Int
        var mtimeNanoseconds: Int
        var inode: UInt64
    }

    static func snapshot(_ root: String, limit: Int = 1000) -> [String: Stamp] {
        var out: [String: Stamp] = [:]
        walk(root, relative: "", depth: 0, limit: limit, into: &out)
        return out
    }

    /// Files new or changed since `before`, sorted by path.
    static func changed(in root: String, since before: [String: Stamp], limit: Int = 1000) -> [(String, Int64)] {
        snapshot(root, limit: limit).compactMap { path, stamp in before[path] == stamp ? nil : (path, stamp.size) }
            .sorted { $0.0 < $1.0 }
    }

    private static func walk(_ dir: String, relative: String, depth: Int, limit: Int, into out: inout [String: Stamp]) {
        guard depth < 8, out.count < limit, let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let entry = readdir(d), out.count < limit {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let path = dir + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                out[rel] = Stamp(size: Int64(st.st_size), mtimeSeconds: Int(st.st_mtim.tv_sec),
                                 mtimeNanoseconds: Int(st.st_mtim.tv_nsec), inode: UInt64(st.st_ino))
            case S_IFDIR:
                walk(path, relative: rel, depth: depth + 1, limit: limit, into: &out)
            default:
                continue
            }
        }
    }
}
