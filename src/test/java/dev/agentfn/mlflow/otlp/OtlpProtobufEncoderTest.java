package dev.agentfn.mlflow.otlp;

import static dev.agentfn.mlflow.otlp.ProtoReader.all;
import static dev.agentfn.mlflow.otlp.ProtoReader.one;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.otlp.ProtoReader.Field;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OtlpProtobufEncoderTest {
    static final String TRACE = "0102030405060708090a0b0c0d0e0f10";
    static final String SPAN = "1112131415161718";
    static final String PARENT = "2122232425262728";

    private static SpanData span(Map<String, Object> attrs, SpanStatus status, List<SpanEvent> events) {
        return new SpanData(TRACE, SPAN, PARENT, "llm", 1_000_000_123L, 2_000_000_456L, status, attrs, events);
    }

    private static List<Field> encodeOne(SpanData span) {
        byte[] bytes = new OtlpProtobufEncoder().encode(List.of(span), Map.of("service.name", "agentfn"), "scope-x");
        List<Field> request = ProtoReader.parse(bytes);
        Field resourceSpans = one(request, 1);
        assertEquals(2, resourceSpans.wireType());
        List<Field> rs = resourceSpans.message();
        List<Field> resourceAttr = one(one(rs, 1).message(), 1).message();
        assertEquals("service.name", one(resourceAttr, 1).string());
        assertEquals("agentfn", one(one(resourceAttr, 2).message(), 1).string());
        List<Field> scopeSpans = one(rs, 2).message();
        assertEquals("scope-x", one(one(scopeSpans, 1).message(), 1).string());
        return one(scopeSpans, 2).message();
    }

    private static Map<String, List<Field>> attributes(List<Field> span, int field) {
        Map<String, List<Field>> out = new LinkedHashMap<>();
        for (Field kv : all(span, field)) {
            List<Field> f = kv.message();
            out.put(one(f, 1).string(), one(f, 2).message());
        }
        return out;
    }

    @Test
    void spanFieldsUseOtlpNumbersAndWireTypes() {
        List<Field> s = encodeOne(span(Map.of(), SpanStatus.error("boom"), List.of()));
        assertArrayEquals(HexFormat.of().parseHex(TRACE), one(s, 1).bytes());
        assertArrayEquals(HexFormat.of().parseHex(SPAN), one(s, 2).bytes());
        assertArrayEquals(HexFormat.of().parseHex(PARENT), one(s, 4).bytes());
        assertEquals("llm", one(s, 5).string());
        assertEquals(0, one(s, 6).wireType());
        assertEquals(1, one(s, 6).number64(), "SPAN_KIND_INTERNAL");
        assertEquals(1, one(s, 7).wireType(), "start time is fixed64");
        assertEquals(1_000_000_123L, one(s, 7).number64());
        assertEquals(1, one(s, 8).wireType(), "end time is fixed64");
        assertEquals(2_000_000_456L, one(s, 8).number64());
        List<Field> status = one(s, 15).message();
        assertEquals("boom", one(status, 2).string());
        assertEquals(0, one(status, 3).wireType());
        assertEquals(2, one(status, 3).number64(), "STATUS_CODE_ERROR");
    }

    @Test
    void rootSpanHasNoParentAndOkStatusCodeIsOne() {
        SpanData root = new SpanData(TRACE, SPAN, null, "root", 1, 2, SpanStatus.OK, Map.of(), List.of());
        List<Field> s = encodeOne(root);
        assertTrue(all(s, 4).isEmpty());
        assertEquals(1, one(one(s, 15).message(), 3).number64());
        List<Field> unset = encodeOne(new SpanData(TRACE, SPAN, null, "r", 1, 2, SpanStatus.UNSET, Map.of(), List.of()));
        assertTrue(one(unset, 15).message().isEmpty(), "UNSET is the proto3 default: nothing encoded");
    }

    @Test
    void attributeValuesMapToAnyValueVariants() {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("s", "AGENT");
        attrs.put("b", true);
        attrs.put("i", 42);
        attrs.put("l", -7L);
        attrs.put("d", 2.5);
        attrs.put("m", Map.of("input_tokens", 3));
        attrs.put("a", List.of("x", 1));
        Map<String, List<Field>> a = attributes(encodeOne(span(attrs, SpanStatus.OK, List.of())), 9);
        assertEquals("AGENT", one(a.get("s"), 1).string());
        assertEquals(0, one(a.get("b"), 2).wireType());
        assertEquals(1, one(a.get("b"), 2).number64());
        assertEquals(42, one(a.get("i"), 3).number64());
        assertEquals(-7L, one(a.get("l"), 3).number64());
        assertEquals(1, one(a.get("d"), 4).wireType(), "double is fixed64");
        assertEquals(2.5, Double.longBitsToDouble(one(a.get("d"), 4).number64()));
        List<Field> kv = one(one(one(a.get("m"), 6).message(), 1).message(), 2).message();
        assertEquals(3, one(kv, 3).number64());
        List<Field> arr = all(one(a.get("a"), 5).message(), 1);
        assertEquals("x", one(arr.get(0).message(), 1).string());
        assertEquals(1, one(arr.get(1).message(), 3).number64());
    }

    @Test
    void jsonLookingStringsAreJsonEncodedSoSanitizeRestoresThem() {
        Map<String, Object> attrs = Map.of("obj", "{\"a\":1}", "quoted", "\"q\"", "num", "42", "plain", "hi");
        Map<String, List<Field>> a = attributes(encodeOne(span(attrs, SpanStatus.OK, List.of())), 9);
        assertEquals("\"{\\\"a\\\":1}\"", one(a.get("obj"), 1).string());
        assertEquals("\"\\\"q\\\"\"", one(a.get("quoted"), 1).string());
        assertEquals("42", one(a.get("num"), 1).string());
        assertEquals("hi", one(a.get("plain"), 1).string());
    }

    @Test
    void traceRequestIdIsNeverSent() {
        Map<String, Object> attrs = Map.of(MlflowKeys.Span.TRACE_REQUEST_ID, "tr-x", "k", "v");
        Map<String, List<Field>> a = attributes(encodeOne(span(attrs, SpanStatus.OK, List.of())), 9);
        assertFalse(a.containsKey(MlflowKeys.Span.TRACE_REQUEST_ID));
        assertTrue(a.containsKey("k"));
    }

    @Test
    void eventsCarryTimeNameAndPrimitiveAttributes() {
        SpanEvent e = new SpanEvent("exception", 99L, Map.of("exception.type", "X", "details", Map.of("a", 1)));
        List<Field> event = one(encodeOne(span(Map.of(), SpanStatus.OK, List.of(e))), 11).message();
        assertEquals(1, one(event, 1).wireType());
        assertEquals(99L, one(event, 1).number64());
        assertEquals("exception", one(event, 2).string());
        Map<String, List<Field>> a = attributes(event, 3);
        assertEquals("X", one(a.get("exception.type"), 1).string());
        assertEquals("{\"a\":1}", one(a.get("details"), 1).string(), "maps are not valid OTel event attributes");
    }

    @Test
    void invalidIdsAreRejected() {
        SpanData bad = new SpanData("abc", SPAN, null, "x", 1, 2, SpanStatus.OK, Map.of(), List.of());
        assertThrows(IllegalArgumentException.class,
                () -> new OtlpProtobufEncoder().encode(List.of(bad), Map.of(), "s"));
    }

    @Test
    void varintsAndTagsMatchKnownBytes() {
        byte[] b = new ProtoWriter().varint(1, 300).fixed32(16, 1).toByteArray();
        // 300 = 0xAC 0x02; field 16 fixed32 tag = (16<<3)|5 = 133 = 0x85 0x01
        String hex = HexFormat.of().formatHex(b);
        assertEquals("08ac02" + "8501" + "01000000", hex);
        assertEquals("0801", HexFormat.of().formatHex(new ProtoWriter().varint(1, 1).toByteArray()));
        String negative = HexFormat.of().formatHex(new ProtoWriter().varint(1, -1).toByteArray());
        assertEquals("08" + "ff".repeat(9) + "01", negative, "negative int64 is a 10-byte varint");
        assertEquals(List.of(1), ProtoReader.parse(b).stream().limit(1).map(Field::number).collect(Collectors.toList()));
    }

    @Test
    void nestedMessagesGetTheirLengthWrittenInFrontWhateverItsSize() {
        for (int n : new int[] {0, 1, 124, 125, 126, 127, 128, 16_380, 16_381, 16_382, 16_383, 2_097_150}) {
            String text = "x".repeat(n);
            ProtoWriter w = new ProtoWriter(16);
            int outer = w.begin(1);
            int inner = w.begin(2);
            w.string(3, text).end(inner).end(outer).varint(4, 7);
            List<Field> top = ProtoReader.parse(w.toByteArray());
            assertEquals(text, one(one(one(top, 1).message(), 2).message(), 3).string(), "a string of " + n);
            assertEquals(7, one(top, 4).number64(), "what follows the nested message is intact, n=" + n);
        }
    }

    @Test
    void stringsAreEncodedAsStringGetBytesEncodesThem() {
        for (String s : List.of("", "plain", "é and ß", "€ 中文", "emoji \uD83D\uDE00 pair", "lone high \uD83D",
                "lone high \uD83D then text", "lone low \uDE00 here", "\uDE00\uD83D reversed", "\uD83D\uD83D\uDE00")) {
            byte[] expected = s.getBytes(StandardCharsets.UTF_8);
            assertEquals(expected.length, Utf8.length(s), s);
            assertArrayEquals(expected, one(ProtoReader.parse(new ProtoWriter().string(1, s).toByteArray()), 1).bytes(), s);
        }
    }

    @Test
    void javaValuesEncodeExactlyAsTheirJsonTree() {
        Map<String, Object> inner = new java.util.LinkedHashMap<>();
        inner.put("s", "text");
        inner.put("i", 7);
        inner.put("l", 1L << 40);
        inner.put("d", 2.5);
        inner.put("f", 1.25f);
        inner.put("b", false);
        inner.put("none", null);
        inner.put("big", new java.math.BigInteger("123456789012345678901234567890"));
        Map<String, Object> value = Map.of("list", java.util.Arrays.asList("a", 1, null, List.of(Map.of("k", "v"))),
                "inner", inner, "bytes", new byte[] {1, 2}, "arr", new Object[] {"x", 3});
        ProtoWriter tree = new ProtoWriter();
        OtlpProtobufEncoder.anyValue(tree, dev.agentfn.mlflow.json.JsonValues.toNode(value));
        ProtoWriter direct = new ProtoWriter();
        OtlpProtobufEncoder.anyValue(direct, (Object) value);
        assertArrayEquals(tree.toByteArray(), direct.toByteArray());
    }
}
