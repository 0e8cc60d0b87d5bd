public enum StockadeProtocolVersion { public static let current = 1 }
