package dev.agentfn.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.testing.LogCapture;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.RawHttp;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile bodies, headers and content types (issue #16): every answer is a success or a 4xx problem+json that
 * says what is wrong, never a 5xx, and a refused request never reaches Anthropic. Sent as raw bytes so that
 * missing, repeated and malformed headers and non-UTF-8 bodies reach the server exactly as written.
 */
@QuarkusTest
class HostileInputTest {
    static final String JSON = "Content-Type: application/json";
    static final String INVOKE = "/v1/invocations";
    static final String EVALUATE = "/v1/evaluations";
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();
    final FakeAnthropicServer fake = FakeAnthropicResource.fake();
    final ObjectMapper mapper = new ObjectMapper();

    /** One hostile request and what it must get: the status and a phrase of the problem's detail. */
    record Case(String name, String path, List<String> headers, byte[] body, int status, String detail) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    static Stream<Case> corpus() {
        List<Case> c = new ArrayList<>();
        // A message without a role was a NullPointerException (500): Set.of(...).contains(null) throws.
        c.add(json("message without role", "{\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0].role must be"));
        c.add(json("message with numeric role", "{\"messages\":[{\"role\":1,\"content\":\"x\"}]}", 400,
                "messages[0].role must be"));
        c.add(json("message that is a string", "{\"messages\":[\"hi\"]}", 400, "messages[0].role must be"));
        // Loose JSON: a second document, trailing garbage and duplicate keys were accepted (the last value won).
        c.add(json("two JSON documents", "{\"prompt\":\"a\"}{\"prompt\":\"b\"}", 400, "after the JSON document"));
        c.add(json("garbage after the document", "{\"prompt\":\"x\"}garbage", 400, "after the JSON document"));
        c.add(json("duplicate key", "{\"prompt\":\"a\",\"prompt\":\"b\"}", 400, "duplicate field 'prompt'"));
        c.add(json("a 2000-digit number", "{\"prompt\":\"x\",\"max_tokens\":" + "9".repeat(2000) + "}", 400,
                "the JSON is too large: number value length"));
        c.add(json("duplicate metadata key", "{\"prompt\":\"a\",\"metadata\":{\"k\":\"1\",\"k\":\"2\"}}", 400,
                "duplicate field 'k'"));
        c.add(json("white space only", "  \n ", 400, "no JSON document"));
        c.add(json("JSON null", "null", 400, "must be a JSON object"));
        c.add(json("byte order mark", "\uFEFF{\"prompt\":\"hi\"}", 400, "malformed JSON"));
        c.add(json("nesting 200 deep", "{\"prompt\":\"hi\",\"system\":" + "[".repeat(200) + "]".repeat(200) + "}",
                400, "nests deeper than 64 levels (agentfn.invocation.max-json-depth)"));
        // Model ids: anything went, into the log (a forged line) and upstream.
        c.add(json("model with a newline", "{\"prompt\":\"hi\",\"model\":\"claude-x\\n12:00:00.000 INFO  [forged] owned\"}",
                400, "\"model\" is not a model id; a model id has 1-256 characters"));
        c.add(json("model with NUL", "{\"prompt\":\"hi\",\"model\":\"claude\\u0000x\"}", 400, "not a model id"));
        c.add(json("model with a space", "{\"prompt\":\"hi\",\"model\":\"claude sonnet\"}", 400, "not a model id"));
        c.add(json("model of 300 characters", "{\"prompt\":\"hi\",\"model\":\"" + "a".repeat(300) + "\"}", 400,
                "not a model id"));
        // Limits: each entry is a trace tag; tens of thousands fit in 1 MiB and MLflow cannot store them in time.
        c.add(json("51 metadata entries", body(metadata(51, 1)), 400,
                "\"metadata\" has 51 entries; the limit is 50 (agentfn.invocation.max-metadata-entries)"));
        c.add(json("20000 metadata entries", body(metadata(20_000, 1)), 400, "agentfn.invocation.max-metadata-entries"));
        c.add(json("metadata value of 4097 characters", body("{\"k\":\"" + "v".repeat(4097) + "\"}"), 400,
                "has 4097 characters; the limit is 4096 (agentfn.invocation.max-metadata-value-length)"));
        c.add(json("metadata key of 251 characters", body("{\"" + "k".repeat(251) + "\":\"v\"}"), 400,
                "agentfn.invocation.max-metadata-key-length"));
        c.add(json("metadata value null", body("{\"k\":null}"), 400, "metadata value of 'k' must be a string"));
        c.add(json("1001 messages", "{\"messages\":" + messages(1001) + "}", 400,
                "\"messages\" has 1001 entries; the limit is 1000 (agentfn.invocation.max-messages)"));
        c.add(json("a tool named twice", "{\"prompt\":\"hi\",\"tools\":[\"weather\",\"weather\"]}", 400,
                "lists 'weather' more than once"));
        // Invalid UTF-8 was decoded leniently: the overlong C0 AF became '/'.
        c.add(bytes("overlong UTF-8 (C0 AF)", INVOKE, utf8Broken(0xC0, 0xAF), 400, "not valid UTF-8 (at byte 12)"));
        c.add(bytes("UTF-8 surrogate (ED A0 80)", INVOKE, utf8Broken(0xED, 0xA0, 0x80), 400, "not valid UTF-8"));
        c.add(bytes("byte FF", INVOKE, utf8Broken(0xFF), 400, "not valid UTF-8"));
        c.add(bytes("truncated sequence (E2 82)", INVOKE, utf8Broken(0xE2, 0x82), 400, "not valid UTF-8"));
        // Content types: the docs promise 415 for anything but application/json; a malformed one was a 500.
        byte[] hi = "{\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
        c.add(new Case("no Content-Type", INVOKE, List.of(), hi, 415, "the request has no Content-Type"));
        c.add(new Case("empty Content-Type", INVOKE, List.of("Content-Type:"), hi, 415, "no Content-Type"));
        c.add(new Case("Content-Type */*", INVOKE, List.of("Content-Type: */*"), hi, 415, "'*/*' is not application/json"));
        c.add(new Case("Content-Type list", INVOKE, List.of("Content-Type: application/json, text/plain"), hi, 415,
                "several Content-Type values"));
        c.add(new Case("two Content-Type headers", INVOKE, List.of(JSON, "Content-Type: text/plain"), hi, 415,
                "several Content-Type values"));
        c.add(new Case("Content-Type charset latin1", INVOKE, List.of("Content-Type: application/json; charset=latin1"),
                hi, 415, "charset 'latin1' is not UTF-8"));
        c.add(new Case("Content-Type parameter without a value", INVOKE, List.of("Content-Type: application/json; charset"),
                hi, 415, "is malformed"));
        c.add(new Case("Content-Type garbage", INVOKE, List.of("Content-Type: garbage"), hi, 415, "'garbage'"));
        c.add(new Case("Content-Type without subtype", INVOKE, List.of("Content-Type: application/"), hi, 415,
                "is not application/json"));
        c.add(new Case("Content-Type with an unclosed quote", INVOKE, List.of("Content-Type: application/json; x=\"a"),
                hi, 415, "is malformed"));
        // RFC 9110 allows empty parameters (";;") and any character but DQUOTE and controls in a quoted string.
        c.add(new Case("Content-Type with empty parameters", INVOKE, List.of("Content-Type: application/json;;"), hi,
                200, null));
        c.add(new Case("Content-Type with ; and , quoted", INVOKE,
                List.of("Content-Type: application/json; x=\"a;b,c\"; charset=utf-8"), hi, 200, null));
        c.add(new Case("Content-Type quoted utf-8", INVOKE, List.of("Content-Type: application/json; charset=\"UTF-8\""),
                hi, 200, null));
        c.add(new Case("Content-Type upper case", INVOKE, List.of("Content-Type: APPLICATION/JSON"), hi, 200, null));
        c.add(new Case("Accept garbage", INVOKE, List.of(JSON, "Accept: ;;;"), hi, 406, "is not a media range"));
        c.add(new Case("Accept without subtype", INVOKE, List.of(JSON, "Accept: text/"), hi, 406, "not a media range"));
        c.add(new Case("Accept with a bad q", INVOKE, List.of(JSON, "Accept: application/json;q=abc"), hi, 200, null));
        // The same strict reader behind POST /v1/evaluations.
        c.add(new Case("evaluation: two documents", EVALUATE, List.of(JSON), utf8("{\"name\":\"a\"}{\"name\":\"b\"}"),
                400, "after the JSON document"));
        c.add(new Case("evaluation: duplicate key", EVALUATE, List.of(JSON), utf8("{\"name\":\"a\",\"name\":\"b\"}"),
                400, "duplicate field 'name'"));
        c.add(bytes("evaluation: overlong UTF-8", EVALUATE, utf8Broken(0xC0, 0xAF), 400, "not valid UTF-8"));
        c.add(new Case("evaluation: no Content-Type", EVALUATE, List.of(), utf8("{}"), 415, "no Content-Type"));
        c.add(new Case("evaluation: Content-Type */*", EVALUATE, List.of("Content-Type: */*"), utf8("{}"), 415,
                "is not application/json"));
        c.add(new Case("evaluation: nesting 200 deep", EVALUATE, List.of(JSON),
                utf8("{\"dataset\":" + "[".repeat(200) + "]".repeat(200) + "}"), 400, "nests deeper than 64"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void hostileRequestsGetASuccessOrAProblemThatSaysWhatIsWrong(Case c) throws Exception {
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", c.path, c.headers, c.body);
        assertEquals(c.status, a.status(), c.name + ": " + a.body());
        if (c.status >= 400) {
            assertEquals(Problem.MEDIA_TYPE, a.header("content-type"), c.name);
            JsonNode problem = mapper.readTree(a.body());
            assertEquals(c.status, problem.path("status").asInt(), a.body());
            assertTrue(problem.path("detail").asText().contains(c.detail), c.name + ": " + a.body());
            assertEquals(0, fake.messageRequests().size(), c.name + ": a refused request reached Anthropic");
        }
    }

    /** The forms of the model ids Anthropic, Bedrock, Vertex and gateways use all pass. */
    @ParameterizedTest
    @ValueSource(strings = {"claude-sonnet-5-5", "claude-sonnet-4-5-20250929", "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "claude-3-5-sonnet@20240620", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-3-5-sonnet",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"})
    void realModelIdsAreAccepted(String model) {
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", INVOKE, List.of(JSON),
                utf8("{\"prompt\":\"hi\",\"model\":\"" + model + "\"}"));
        assertEquals(200, a.status(), a.body());
        assertEquals(model, fake.messageRequests().get(0).json().path("model").asText());
    }

    /** A newline in a model id used to reach the log as a forged line; nothing a caller sends may. */
    @Test
    void callerTextNeverForgesALogLine() {
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", INVOKE, List.of(JSON),
                utf8("{\"prompt\":\"hi\",\"model\":\"claude-x\\n12:00:00.000 INFO  [forged] owned\\u0000\"}"));
        assertEquals(400, a.status(), a.body());
        for (String line : LOG.lines()) {
            assertFalse(line.contains("\n12:00:00.000 INFO  [forged]") || line.indexOf('\u0000') >= 0, line);
        }
    }

    /** SSE events are "event:" and "data:" lines; a "content-type:" line is no SSE field and was on every event. */
    @Test
    void streamedEventsCarryOnlyStandardFields() {
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", INVOKE, List.of(JSON, "Accept: text/event-stream"),
                utf8("{\"prompt\":\"hi\"}"));
        assertEquals(200, a.status(), a.body());
        assertTrue(a.body().contains("event:done") || a.body().contains("event: done"), a.body());
        for (String line : a.body().split("\n")) {
            String field = line.contains(":") ? line.substring(0, line.indexOf(':')).toLowerCase(Locale.ROOT) : line;
            assertTrue(List.of("", "event", "data", "id", "retry").contains(field.strip()), "line: " + line);
        }
    }

    /** RFC 9110: a 405 lists the allowed methods. */
    @Test
    void methodNotAllowedListsTheAllowedMethods() {
        RawHttp.Answer get = RawHttp.send(RestAssured.port, "GET", INVOKE, List.of(), null);
        assertEquals(405, get.status(), get.body());
        assertEquals(Problem.MEDIA_TYPE, get.header("content-type"));
        assertEquals("POST", get.header("allow"));
        RawHttp.Answer put = RawHttp.send(RestAssured.port, "PUT", EVALUATE + "/some-id", List.of(JSON), utf8("{}"));
        assertEquals(405, put.status(), put.body());
        assertEquals("GET, HEAD", put.header("allow"));
    }

    /** 414 and 431 were Vert.x's bare answers; below the codec's ceilings they are problems naming the limit. */
    @Test
    void overlongUriAndHeadersAreProblems() {
        RawHttp.Answer uri = RawHttp.send(RestAssured.port, "GET", "/v1/evaluations/" + "x".repeat(5000), List.of(), null);
        assertEquals(414, uri.status());
        assertEquals(Problem.MEDIA_TYPE, uri.header("content-type"));
        assertTrue(uri.body().contains("agentfn.http.max-uri-length"), uri.body());
        RawHttp.Answer headers = RawHttp.send(RestAssured.port, "POST", INVOKE, List.of(JSON, "X-Big: " + "h".repeat(30_000)),
                utf8("{\"prompt\":\"hi\"}"));
        assertEquals(431, headers.status());
        assertEquals(Problem.MEDIA_TYPE, headers.header("content-type"));
        assertTrue(headers.body().contains("agentfn.http.max-header-size"), headers.body());
        assertEquals(0, fake.messageRequests().size());
        // Past quarkus.http.limits.* Vert.x's codec answers before any handler: the status is right, the body
        // empty. Quarkus gives no access to HttpServer#invalidRequestHandler, the only hook for that answer.
        RawHttp.Answer codec = RawHttp.send(RestAssured.port, "GET", "/v1/evaluations/" + "x".repeat(20_000), List.of(),
                null);
        assertEquals(414, codec.status());
    }

    static Case json(String name, String body, int status, String detail) {
        return new Case(name, INVOKE, List.of(JSON), utf8(body), status, detail);
    }

    static Case bytes(String name, String path, byte[] body, int status, String detail) {
        return new Case(name, path, List.of(JSON), body, status, detail);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code {"prompt":"a<bytes>b"}}: the bad bytes start at offset 12. */
    static byte[] utf8Broken(int... bad) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(utf8("{\"prompt\":\"a"));
        for (int b : bad) {
            out.write(b);
        }
        out.writeBytes(utf8("b\"}"));
        return out.toByteArray();
    }

    static String body(String metadata) {
        return "{\"prompt\":\"hi\",\"metadata\":" + metadata + "}";
    }

    static String metadata(int entries, int valueLength) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < entries; i++) {
            b.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("v".repeat(valueLength)).append('"');
        }
        return b.append('}').toString();
    }

    static String messages(int n) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
                    .append("\",\"content\":\"m\"}");
        }
        return b.append(']').toString();
    }
}
