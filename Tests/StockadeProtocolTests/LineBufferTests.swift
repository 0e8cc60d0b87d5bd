import Testing
@testable import StockadeProtocol

@Suite struct LineBufferTests {
    func drain(_ lb: inout LineBuffer) -> [LineBuffer.Event] {
        var out: [LineBuffer.Event] = []
        while let e = lb.nextLine() { out.append(e) }
        return out
    }

    func line(_ s: String) -> LineBuffer.Event { .line(bytes(s)) }

    @Test func manyLinesInOneChunk() {
        var lb = LineBuffer()
        lb.append(bytes("a\nbb\n\nccc\npartial"))
        #expect(drain(&lb) == [line("a"), line("bb"), line(""), line("ccc")])
        #expect(lb.bufferedByteCount == 7)
        lb.append(bytes(" done\n"))
        #expect(drain(&lb) == [line("partial done")])
        #expect(lb.nextLine() == nil)
        #expect(lb.bufferedByteCount == 0)
    }

    @Test func crlfStripped() {
        var lb = LineBuffer()
        lb.append(bytes("one\r\ntwo\r\n\r\nin\rside\n\r\r\n"))
        #expect(drain(&lb) == [line("one"), line("two"), line(""), line("in\rside"), line("\r")])
    }

    @Test func everySplitPoint() {
        let text = bytes("{\"a\":1}\r\nsecond line\n\nthird\r\n")
        let expected = [line("{\"a\":1}"), line("second line"), line(""), line("third")]
        for cut in 0...text.count {
            var lb = LineBuffer(maxLineBytes: 64)
            var got: [LineBuffer.Event] = []
            lb.append(Array(text[..<cut]))
            got += drain(&lb)
            lb.append(Array(text[cut...]))
            got += drain(&lb)
            #expect(got == expected, "cut at \(cut)")
        }
    }

    @Test func byteAtATime() {
        var lb = LineBuffer(maxLineBytes: 8)
        var got: [LineBuffer.Event] = []
        for b in bytes("ab\r\ncd\n0123456789abc\nok\n") {
            lb.append([b])
            got += drain(&lb)
        }
        #expect(got.count == 4)
        #expect(got[0] == line("ab"))
        #expect(got[1] == line("cd"))
        guard case .oversize(let n) = got[2] else {
            Issue.record("expected oversize, got \(got[2])")
            return
        }
        #expect(n > 8)
        #expect(got[3] == line("ok"))
    }

    @Test func oversizeCompleteLineInOneChunk() {
        var lb = LineBuffer(maxLineBytes: 10)
        lb.append(bytes("short\n" + String(repeating: "x", count: 25) + "\nnext\n"))
        #expect(drain(&lb) == [line("short"), .oversize(25), line("next")])
    }

    @Test func oversizeAcrossChunksResyncs() {
        var lb = LineBuffer(maxLineBytes: 10)
        lb.append(bytes("12345678"))
        #expect(lb.nextLine() == nil)
        lb.append(bytes("90abcdef"))
        #expect(lb.nextLine() == .oversize(16))
        #expect(lb.isDiscarding)
        #expect(lb.bufferedByteCount == 0)
        lb.append(bytes(String(repeating: "junk", count: 1000)))
        #expect(lb.nextLine() == nil)
        #expect(lb.bufferedByteCount == 0)
        lb.append(bytes("tail\nok\r\nmore"))
        #expect(drain(&lb) == [line("ok")])
        #expect(!lb.isDiscarding)
        lb.append(bytes("\n"))
        #expect(drain(&lb) == [line("more")])
    }

    @Test func boundaryLengths() {
        var lb = LineBuffer(maxLineBytes: 4)
        lb.append(bytes("abcd\nabcd\r\nabcde\nab"))
        #expect(drain(&lb) == [line("abcd"), line("abcd"), .oversize(5)])
        // A max-length line whose "\r" arrives before its "\n" is not oversize.
        var lb2 = LineBuffer(maxLineBytes: 4)
        lb2.append(bytes("abcd\r"))
        #expect(lb2.nextLine() == nil)
        lb2.append(bytes("\n"))
        #expect(lb2.nextLine() == line("abcd"))
        // ...but five content bytes without a newline are.
        var lb3 = LineBuffer(maxLineBytes: 4)
        lb3.append(bytes("abcde"))
        #expect(lb3.nextLine() == .oversize(5))
        lb3.append(bytes("\nz\n"))
        #expect(drain(&lb3) == [line("z")])
    }

    @Test func zeroMaxAllowsOnlyEmptyLines() {
        var lb = LineBuffer(maxLineBytes: 0)
        lb.append(bytes("\n\r\nx\n\n"))
        #expect(drain(&lb) == [line(""), line(""), .oversize(1), line("")])
    }

    @Test func finishReturnsTrailingPartialLine() {
        var lb = LineBuffer(maxLineBytes: 8)
        lb.append(bytes("a\nlast\r"))
        #expect(drain(&lb) == [line("a")])
        #expect(lb.finish() == line("last"))
        #expect(lb.finish() == nil)
        lb.append(bytes("x\n"))
        #expect(drain(&lb) == [line("x")])
        #expect(lb.finish() == nil)
    }

    @Test func tenThousandSmallLines() {
        var text: [UInt8] = []
        for i in 0..<10_000 { text += bytes("{\"id\":\(i)}\n") }
        var lb = LineBuffer()
        var count = 0
        // Feed in 4 KiB chunks as a pipe would deliver them.
        var offset = 0
        while offset < text.count {
            let end = min(text.count, offset + 4096)
            lb.append(Array(text[offset..<end]))
            offset = end
            while case .line(let l)? = lb.nextLine() {
                #expect(l == bytes("{\"id\":\(count)}"))
                count += 1
            }
            #expect(lb.bufferedByteCount < 64)
        }
        #expect(count == 10_000)
    }

    @Test func randomStreamsMatchModel() {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<200 {
            let max = 1 + rng.below(40)
            var stream: [UInt8] = []
            var expected: [LineBuffer.Event?] = []  // nil = some oversize event
            for _ in 0..<rng.below(30) {
                let len = rng.below(60)
                var content: [UInt8] = []
                for _ in 0..<len {
                    // No '\n'; some '\r' inside.
                    content.append(rng.chance(5) ? 0x0D : UInt8(0x20 + rng.below(90)))
                }
                if content.last == 0x0D { content[content.count - 1] = 0x41 }
                let crlf = rng.chance(30)
                stream += content + (crlf ? [0x0D, 0x0A] : [0x0A])
                expected.append(content.count > max ? nil : .line(content))
            }
            var lb = LineBuffer(maxLineBytes: max)
            var got: [LineBuffer.Event] = []
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + 1 + rng.below(50))
                lb.append(Array(stream[offset..<end]))
                offset = end
                got += drain(&lb)
                #expect(lb.bufferedByteCount <= max + 1 + 50)
            }
            #expect(lb.finish() == nil)
            #expect(got.count == expected.count)
            for (g, e) in zip(got, expected) {
                if let e {
                    #expect(g == e)
                } else if case .oversize(let n) = g {
                    #expect(n > max)
                } else {
                    Issue.record("expected oversize, got \(g)")
                }
            }
        }
    }

    @Test func compactionKeepsMemoryBounded() {
        var lb = LineBuffer(maxLineBytes: 100)
        let chunk = bytes(String(repeating: "0123456789\n", count: 500) + "part")
        for _ in 0..<50 {
            lb.append(chunk)
            var n = 0
            while lb.nextLine() != nil { n += 1 }
            #expect(n == 500 || n == 501)
        }
        #expect(lb.bufferedByteCount == 4)
    }
}

@Suite struct LineBufferLimitTests {
    @Test func unboundedMaximumDoesNotOverflow() {
        var lb = LineBuffer(maxLineBytes: .max)
        lb.append(bytes(String(repeating: "y", count: 10_000)))
        #expect(lb.nextLine() == nil)
        lb.append(bytes("\r\n"))
        #expect(lb.nextLine() == .line(bytes(String(repeating: "y", count: 10_000))))
    }

    @Test func negativeMaximumIsClampedToZero() {
        var lb = LineBuffer(maxLineBytes: -5)
        #expect(lb.maxLineBytes == 0)
        lb.append(bytes("\nab\n"))
        #expect(lb.nextLine() == .line([]))
        #expect(lb.nextLine() == .oversize(2))
    }
}
