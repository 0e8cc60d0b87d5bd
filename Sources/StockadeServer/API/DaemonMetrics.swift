import CoreMetrics
import Hummingbird
import NIOCore
import Prometheus

/// swift-metrics bootstrapped with a Prometheus registry; GET /metrics renders it. The pool's
/// metrics (PoolMetrics) land in the same registry.
final class DaemonMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let requests: CoreMetrics.Counter
    private let inFlight: CoreMetrics.Meter

    /// Bootstraps the process-wide metrics system once.
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        requests = CoreMetrics.Counter(label: "stockade_http_executions_started_total")
        inFlight = CoreMetrics.Meter(label: "stockade_http_executions_in_flight")
    }

    func requestStarted() {
        requests.increment()
        inFlight.increment()
    }

    func requestFinished(status: String, seconds: Double) {
        inFlight.decrement()
        CoreMetrics.Timer(label: "stockade_http_execution_seconds", dimensions: [("status", status)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    func prometheusResponse() -> Response {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
