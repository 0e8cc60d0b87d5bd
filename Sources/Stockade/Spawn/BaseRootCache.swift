import CStockade
import Synchronization

/// The base root of a sandbox is the same for every spawn with the same layout, inside identity,
/// hostname and pid namespace: its mount plan (with the host facts it checked) and its C memory
/// are made once and kept. Spawns copy the C array and add their own mounts.
final class BaseRoot: @unchecked Sendable {
    // @unchecked: immutable after init; the C memory is only read, by children and spawns.
    let plan: MountPlan
    let mounts: [stk_mount]
    private let arena: CArena

    init(plan: MountPlan, staging: String) {
        self.plan = plan
        let arena = CArena()
        mounts = plan.operations.map { BaseRoot.cMount($0, staging: staging, arena: arena) }
        self.arena = arena
    }

    static func cMount(_ op: MountPlan.Operation, staging: String, arena: CArena) -> stk_mount {
        var m = stk_mount()
        m.kind = op.kind
        m.flags = op.flags
        m.mode = op.mode
        m.locked_flags = op.lockedFlags
        m.source = arena.optionalString(op.source)
        m.target = UnsafePointer(arena.string(staging + op.destination))
        if let data = op.data {
            m.data = UnsafePointer(arena.bytes(data))
            m.data_len = UInt64(data.count)
        }
        return m
    }
}

enum BaseRootCache {
    struct Key: Hashable {
        var root: RootLayout
        var insideUID: UInt32
        var insideGID: UInt32
        var hostname: String
        var pidNamespace: Bool
        var staging: String
    }

    private static let cache = Mutex<[Key: BaseRoot]>([:])

    static func root(for spec: SandboxSpec, staging: String) throws -> BaseRoot {
        let key = Key(root: spec.root, insideUID: spec.identity.insideUID, insideGID: spec.identity.insideGID,
                      hostname: spec.hostname, pidNamespace: spec.namespaces.contains(.pid), staging: staging)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let made = BaseRoot(plan: try MountPlan(base: spec), staging: staging)
        // Spawns keep the BaseRoot they use alive (PreparedSpawn.baseRoot), so replacing or
        // clearing entries here never frees memory a child is reading.
        return cache.withLock { c in
            if let raced = c[key] { return raced }
            if c.count >= 256 { c.removeAll() } // bounded: many hostnames would otherwise grow it
            c[key] = made
            return made
        }
    }
}
