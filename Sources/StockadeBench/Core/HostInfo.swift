import Glibc
import Stockade

/// What the report says about the machine it ran on.
public enum HostInfo {
    public static func collect(extra: [String: String] = [:]) -> [String: String] {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var info: [String: String] = [
            "kernel": release,
            "arch": machine,
            "cpus": "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))",
            "memory_gib": fmt(Double(sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))) / 1_073_741_824, 1),
            "cgroup": CgroupSystem.host.mode.rawValue,
            "landlock_abi": LandlockPolicy.kernelABI.map(String.init) ?? "none",
        ]
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, 64, "%Y-%m-%dT%H:%M:%SZ", &tmv)
        info["date"] = String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for (k, v) in extra { info[k] = v }
        return info
    }
}
