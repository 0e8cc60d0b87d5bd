import Glibc

/// Lists the files an execution left in the outputs directory: regular files modified since it
/// started, with paths relative to the directory. Bounded in depth and count.
enum OutputScanner {
    static func files(in root: String, since startSeconds: Int, limit: Int = 1000) -> [(String, Int64)] {
        var out: [(String, Int64)] = []
        walk(root, relative: "", depth: 0, since: startSeconds, limit: limit, into: &out)
        return out.sorted { $0.0 < $1.0 }
    }

    private static func walk(_ dir: String, relative: String, depth: Int, since: Int, limit: Int, into out: inout [(String, Int64)]) {
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
                if Int(st.st_mtim.tv_sec) >= since { out.append((rel, Int64(st.st_size))) }
            case S_IFDIR:
                walk(path, relative: rel, depth: depth + 1, since: since, limit: limit, into: &out)
            default:
                continue
            }
        }
    }
}
