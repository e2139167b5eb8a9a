package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.testing.LogCapture;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.testing.RawHttp;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gateway against hostile bodies, headers and content types, as the invocation API was hardened in issue #16:
 * what the gateway traces is what it relayed (one strict JSON document, or a 400 before any upstream call), a caller's
 * value never makes MLflow refuse a trace or forges a log line, and no answer of agentfn's own is a 5xx. Requests are
 * sent as raw bytes, so missing, repeated and malformed headers and non-UTF-8 bodies arrive exactly as written.
 */
@QuarkusTest
@TestProfile(GatewayTest.Enabled.class)
class GatewayHostileInputTest {
    static final String KEY = FakeAnthropicResource.TEST_API_KEY;
    static final String MESSAGES = "/v1/messages";
    static final String COUNT = "/v1/messages/count_tokens";
    static final String JSON = "Content-Type: application/json";
    static final String VALID = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"x\"}]}";
    /** MLflow 3.17.2 keeps 250 characters of a metadata value and refuses a longer session id outright. */
    static final int MLFLOW_METADATA_CHARS = 250;
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    final FakeAnthropicServer fake = FakeAnthropicResource.fake();
    final ObjectMapper mapper = new ObjectMapper();
    final MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());

    /** One hostile request: where it goes, its headers beyond the key and version, and its body. */
    record Case(String name, String path, List<String> headers, byte[] body, String detail) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    // ---- 1. the body: one strict JSON object, or a 400 and no upstream call ------------------------

    static Stream<Case> malformedBodies() {
        List<Case> c = new ArrayList<>();
        // json.readTree stopped after the first document: upstream got two, the trace recorded one
        c.add(body("two JSON documents", VALID + VALID.replace("\"x\"", "\"y\""), "after the JSON document"));
        c.add(body("garbage after the document", VALID + "garbage", "after the JSON document"));
        // the last duplicate won in the trace; an upstream that keeps the first would run another model
        c.add(body("duplicate model", "{\"model\":\"claude-sonnet-5-5\",\"model\":\"claude-opus-4-1\",\"max_tokens\":10,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "duplicate field 'model'"));
        c.add(body("duplicate key in a message", "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":"
                + "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"traced\",\"text\":\"sent\"}]}]}", "duplicate field 'text'"));
        // invalid UTF-8 was decoded leniently by Jackson: the overlong C0 AF became '/'
        c.add(new Case("overlong UTF-8 (C0 AF)", MESSAGES, List.of(JSON), broken(0xC0, 0xAF), "not valid UTF-8 (at byte"));
        c.add(new Case("UTF-8 surrogate (ED A0 80)", MESSAGES, List.of(JSON), broken(0xED, 0xA0, 0x80), "not valid UTF-8"));
        c.add(new Case("byte FF", MESSAGES, List.of(JSON), broken(0xFF), "not valid UTF-8"));
        c.add(new Case("truncated sequence (E2 82)", MESSAGES, List.of(JSON), broken(0xE2, 0x82), "not valid UTF-8"));
        c.add(body("empty body", "", "empty"));
        c.add(body("white space only", " \n ", "no JSON document"));
        c.add(body("JSON null", "null", "must be a JSON object"));
        c.add(body("JSON array", "[" + VALID + "]", "must be a JSON object"));
        c.add(body("byte order mark", "\uFEFF" + VALID, "malformed JSON"));
        c.add(body("nesting 1500 deep", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[],\"system\":" + "[".repeat(1500)
                + "]".repeat(1500) + "}", "nests deeper than"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBodies")
    void aBodyThatIsNotOneStrictJsonObjectIsRefusedBeforeAnyUpstreamCall(Case c) throws Exception {
        RawHttp.Answer a = send(c);
        assertEquals(400, a.status(), c.name + ": " + a.body());
        JsonNode error = anthropicError(a, c.name);
        assertEquals("invalid_request_error", error.path("type").asText(), a.body());
        assertTrue(error.path("message").asText().contains(c.detail), c.name + ": " + a.body());
        assertEquals(0, fake.receivedRequests(), c.name + ": a refused request reached upstream");
    }

    // ---- 2. caller values that reach traces, metadata and logs -----------------------------------

    /**
     * Claude Code sends UUIDs, but the session id is the caller's: a 10 KB one (MLflow refuses a session over 250
     * characters: the whole trace went to the spool's rejected/), C1 control characters and bytes above ASCII
     * (C0 controls in a header never get this far: the HTTP codec refuses them), the same in the other headers
     * and a model id with a newline, a lone surrogate in the prompt. The request goes upstream unchanged; the trace holds a bounded, escaped
     * session id that is still the same for every request of the session and different for another session.
     */
    @Test
    void everyCallerValueATraceCarriesIsBoundedAndEscapedWhileTheRequestGoesUpstreamUnchanged() throws Exception {
        String marker = UUID.randomUUID().toString();
        // all headers together stay under agentfn.http.max-header-size (20K)
        String session = "s-" + marker + "\u00e9\u0085" + "x".repeat(10_000);
        String user = "u-" + marker + "\u00ff" + "y".repeat(2_000);
        String agent = "claude-cli/" + "9".repeat(2000) + " (external, " + "e".repeat(2000) + ")";
        String model = "claude-sonnet-5-5\\n12:00:00.000 INFO  [forged] owned " + "m".repeat(3000);
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                + "\"text\",\"text\":\"lone \\ud800 surrogate and \uD83D\uDE00\"}]}],\"tools\":[{\"name\":\"Read\","
                + "\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}]}";
        fake.enqueue(FakeTurn.text("Bounded."));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", MESSAGES, List.of(JSON, "x-api-key: " + KEY,
                "anthropic-version: 2023-06-01", "x-claude-code-session-id: " + session, "x-agentfn-user: " + user,
                "user-agent: " + agent), bytes);
        assertEquals(200, a.status(), a.body());

        RecordedRequest sent = fake.messageRequests().get(0);
        assertEquals(session, sent.header("x-claude-code-session-id"), "relayed as it came");
        assertEquals(user, sent.header("x-agentfn-user"));
        assertEquals(agent, sent.header("user-agent"));
        assertEquals(new String(bytes, StandardCharsets.UTF_8), sent.body(), "the body went upstream byte for byte");

        JsonNode t = traceWhere("metadata.`mlflow.trace.session` LIKE 's-" + marker + "%'");
        assertEquals("OK", t.path("state").asText(), "MLflow stored the trace: " + t);
        Iterator<Map.Entry<String, JsonNode>> it = t.path("metadata").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String v = e.getValue().asText();
            assertTrue(v.length() <= MLFLOW_METADATA_CHARS, e.getKey() + " has " + v.length() + " characters");
            assertTrue(v.chars().noneMatch(ch -> Character.isISOControl(ch)), e.getKey() + " holds a control character: " + v);
        }
        String traced = t.at("/metadata/mlflow.trace.session").asText();
        assertTrue(traced.startsWith("s-" + marker + "\u00e9\\u0085xxx"), traced);
        assertEquals(traced, t.at("/spans/0/attributes/session.id").asText(), "the root says the same session");
        assertTrue(t.at("/metadata/mlflow.trace.user").asText().startsWith("u-" + marker + "\u00ffyyy"),
                t.at("/metadata/mlflow.trace.user").asText());
        assertTrue(t.at("/metadata/agentfn.model").asText().startsWith("claude-sonnet-5-5\\n12:00"), t.toString());
        assertTrue(t.get("request_preview").asText().contains("surrogate"), t.toString());
        assertLogNotForged(marker);

        // another request of the same session is the same traced session; one differing past the cut is another
        fake.enqueue(FakeTurn.text("Second."), FakeTurn.text("Third."));
        String second = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"second\"}],\"tools\":[{\"name\":\"Read\",\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}]}";
        for (String s : List.of(session, session.substring(0, session.length() - 1) + "z")) {
            assertEquals(200, RawHttp.send(RestAssured.port, "POST", MESSAGES, List.of(JSON, "x-api-key: " + KEY,
                    "anthropic-version: 2023-06-01", "x-claude-code-session-id: " + s),
                    second.getBytes(StandardCharsets.UTF_8)).status());
        }
        JsonNode sessions = mlflow.json("""
                import mlflow, json, time
                for _ in range(100):
                    found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                                 filter_string=%s, return_type="list")
                    if len(found) >= 3:
                        break
                    time.sleep(0.1)
                print(json.dumps(sorted(t.info.trace_metadata["mlflow.trace.session"] for t in found)))
                """.formatted(GatewayTest.pyString("metadata.`mlflow.trace.session` LIKE 's-" + marker + "%'")));
        assertEquals(3, sessions.size(), sessions.toString());
        assertEquals(2, java.util.stream.StreamSupport.stream(sessions.spliterator(), false).filter(s -> s.asText()
                .equals(traced)).count(), "one session, one traced id: " + sessions);
    }

    /**
     * {@code metadata.user_id} names the trace's user when no header does: in the body it can be megabytes,
     * with escaped newlines and NULs. Traced bounded and escaped, relayed unchanged.
     */
    @Test
    void aHostileMetadataUserIdIsTracedBoundedAndEscaped() throws Exception {
        String session = "user-id-" + UUID.randomUUID();
        String userId = "acct-" + session + "\\n12:00:00.000 INFO  [forged] owned\\u0000" + "z".repeat(20_000);
        String body = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"metadata\":{\"user_id\":\"" + userId + "\"},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"who am I\"}],\"tools\":[{\"name\":\"Read\","
                + "\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}]}";
        fake.enqueue(FakeTurn.text("You."));
        RawHttp.Answer a = RawHttp.send(RestAssured.port, "POST", MESSAGES, List.of(JSON, "x-api-key: " + KEY,
                "anthropic-version: 2023-06-01", "x-claude-code-session-id: " + session), body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, a.status(), a.body());
        assertEquals(mapper.readTree(body).at("/metadata/user_id").asText(),
                fake.messageRequests().get(0).json().at("/metadata/user_id").asText(), "relayed unchanged");
        JsonNode t = traceWhere("metadata.`mlflow.trace.session` = '" + session + "'");
        assertEquals("OK", t.path("state").asText(), t.toString());
        String traced = t.at("/metadata/mlflow.trace.user").asText();
        assertTrue(traced.length() <= MLFLOW_METADATA_CHARS, traced.length() + " characters");
        assertTrue(traced.startsWith("acct-" + session + "\\n12:00:00.000 INFO  [forged] owned\\u0000zzz"), traced);
        assertLogNotForged(session);
    }

    /**
     * A turn's state holds the caller's prompts and is cut into 240-character metadata values: a cut inside a
     * surrogate pair left half an emoji in each value, which UTF-8 cannot carry (written as '?', so the prompt read
     * back on another instance no longer matched its subagent). Two runs of emoji of opposite parity: one of them
     * meets a cut.
     */
    @Test
    void aTurnsStateCutIntoMetadataValuesNeverSplitsACharacter() throws Exception {
        String prompt = "\uD83D\uDE00".repeat(300) + "x" + "\uD83D\uDE00".repeat(5000) + " \u00e9";
        String description = "\uD83D\uDE00".repeat(120) + " \u00e9";
        TurnState state = new TurnState("0af7651916cd43dd8448eb211c80319c", 1);
        state.pendingAgentCall(TurnState.PendingAgentCall.of("toolu_1", prompt, description, "general-purpose"));
        Map<String, String> metadata = state.toMetadata();
        metadata.forEach((k, v) -> assertEquals(v, new String(v.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8),
                k + " is not whole characters"));
        TurnState shortPrompt = new TurnState("0af7651916cd43dd8448eb211c80319c", 1);
        shortPrompt.pendingAgentCall(TurnState.PendingAgentCall.of("toolu_1", "x", description, "general-purpose"));
        assertEquals(shortPrompt.toMetadata().size(), metadata.size(),
                "a long prompt does not grow the state written with every request");
        TurnState back = TurnState.fromJson(mapper.readTree(TurnState.jsonIn(metadata).orElseThrow()));
        assertTrue(back.hasAgentCall(prompt), "the prompt read back is the prompt");
        assertFalse(back.hasAgentCall(prompt + "!"), "and only that prompt");
        // a state an older instance wrote (the prompt itself, not its digest) is still understood
        com.fasterxml.jackson.databind.node.ObjectNode old =
                (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(TurnState.jsonIn(metadata).orElseThrow());
        ((com.fasterxml.jackson.databind.node.ObjectNode) old.path("pending").path("toolu_1")).remove("prompt_digest");
        ((com.fasterxml.jackson.databind.node.ObjectNode) old.path("pending").path("toolu_1")).put("prompt", "Count the files");
        assertTrue(TurnState.fromJson(old).hasAgentCall("Count the files"));
    }

    // ---- 3. Content-Type -------------------------------------------------------------------------

    /**
     * A faithful relay: the Content-Type goes upstream as it came and the upstream (Anthropic answers 400 for a
     * body it cannot read) decides; the gateway judges only the body, which it must read as UTF-8 JSON to trace.
     * A charset that is not UTF-8 is refused: the gateway and the upstream would read the same bytes differently.
     */
    static Stream<Case> contentTypes() {
        return Stream.of(
                new Case("no Content-Type", MESSAGES, List.of(), utf8(VALID), null),
                new Case("text/plain", MESSAGES, List.of("Content-Type: text/plain"), utf8(VALID), null),
                new Case("form", MESSAGES, List.of("Content-Type: application/x-www-form-urlencoded"), utf8(VALID), null),
                new Case("two Content-Type headers", MESSAGES, List.of(JSON, "Content-Type: text/plain"), utf8(VALID), null),
                new Case("garbage", MESSAGES, List.of("Content-Type: ;;;\"="), utf8(VALID), null),
                new Case("charset utf-8 quoted", MESSAGES, List.of("Content-Type: application/json; charset=\"UTF-8\""),
                        utf8(VALID), null),
                new Case("charset latin1", MESSAGES, List.of("Content-Type: application/json; charset=latin1"), utf8(VALID),
                        "charset 'latin1'"),
                new Case("charset utf-16 on a second header", MESSAGES, List.of(JSON, "Content-Type: text/plain;charset=UTF-16"),
                        utf8(VALID), "charset 'utf-16'"),
                // read as the API reads a Content-Type (dev.agentfn.MediaType): a comma inside quotes is no list,
                // a list's second entry and the parameters before a malformed part are read all the same
                new Case("a comma and a charset inside quotes", MESSAGES,
                        List.of("Content-Type: application/json; x=\"a,charset=latin1\""), utf8(VALID), null),
                new Case("charset latin1 in a list's second entry", MESSAGES,
                        List.of("Content-Type: application/json, text/plain; charset=latin1"), utf8(VALID), "charset 'latin1'"),
                new Case("charset latin1 before a malformed parameter", MESSAGES,
                        List.of("Content-Type: application/json; charset=\"latin1\"; =x"), utf8(VALID), "charset 'latin1'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contentTypes")
    void theContentTypeIsRelayedAsItCameUnlessItNamesAnotherCharset(Case c) throws Exception {
        fake.enqueue(FakeTurn.text("relayed"));
        RawHttp.Answer a = send(c);
        if (c.detail == null) {
            assertEquals(200, a.status(), c.name + ": " + a.body());
            List<RecordedRequest> sent = fake.messageRequests();
            assertEquals(1, sent.size(), c.name);
            List<String> types = c.headers.stream().filter(h -> h.toLowerCase().startsWith("content-type:"))
                    .map(h -> h.substring(h.indexOf(':') + 1).strip()).toList();
            assertEquals(types.isEmpty() ? null : String.join(", ", types), sent.get(0).header("content-type"), c.name);
        } else {
            assertEquals(400, a.status(), c.name + ": " + a.body());
            JsonNode error = anthropicError(a, c.name);
            assertEquals("invalid_request_error", error.path("type").asText());
            assertTrue(error.path("message").asText().contains(c.detail), a.body());
            assertEquals(0, fake.receivedRequests(), c.name);
        }
    }

    // ---- 3b. the HTTP limits, checked before any route: in Anthropic's shape on the gateway's paths ----

    @Test
    void anOverlongUriOrHeaderBlockOnAGatewayPathIsRefusedInAnthropicsShapeAndNothingGoesUpstream() throws Exception {
        RawHttp.Answer uri = RawHttp.send(RestAssured.port, "GET", "/v1/models/" + "m".repeat(5000),
                List.of("x-api-key: " + KEY, "anthropic-version: 2023-06-01"), null);
        assertEquals(414, uri.status(), uri.body());
        assertTrue(anthropicError(uri, "414").path("message").asText().contains("agentfn.http.max-uri-length"), uri.body());
        List<String> big = new ArrayList<>(List.of(JSON, "X-Big: " + "h".repeat(30_000)));
        RawHttp.Answer headers = send(new Case("431", MESSAGES, big, utf8(VALID), null));
        assertEquals(431, headers.status(), headers.body());
        JsonNode error = anthropicError(headers, "431");
        assertEquals("invalid_request_error", error.path("type").asText());
        assertTrue(error.path("message").asText().contains("agentfn.http.max-header-size"), headers.body());
        assertEquals(0, fake.receivedRequests());
        // the API's paths keep the API's shape in the same process
        RawHttp.Answer api = send(new Case("431 api", "/v1/invocations", big, utf8("{\"prompt\":\"hi\"}"), null));
        assertEquals(431, api.status(), api.body());
        assertEquals("application/problem+json", api.header("content-type"));
    }

    // ---- 4. the corpus: never a 5xx of agentfn's own, never a stack trace, never the key ---------

    static Stream<Case> corpus() {
        List<String> headers = List.of(JSON);
        List<Case> c = new ArrayList<>();
        for (String path : List.of(MESSAGES, COUNT)) {
            String p = path.equals(MESSAGES) ? "messages: " : "count_tokens: ";
            malformedBodies().forEach(m -> c.add(new Case(p + m.name, path, m.headers, m.body, null)));
            contentTypes().forEach(m -> c.add(new Case(p + "Content-Type " + m.name, path, m.headers, m.body, null)));
            for (String[] b : new String[][] {
                {"messages a string", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":\"hi\"}"},
                {"messages [null]", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[null]}"},
                {"message role a number", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":1,\"content\":2}]}"},
                {"content blocks of null", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[null,1,\"s\"]}]}"},
                {"tool_result for no call", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"p\"},"
                        + "{\"role\":\"assistant\",\"content\":null},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                        + "\"tool_use_id\":{},\"content\":[1,{\"text\":[]}]}]}],\"tools\":[{}]}"},
                {"tools an object", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[],\"tools\":{\"a\":1}}"},
                {"model an object", "{\"model\":{\"x\":1},\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"p\"}]}"},
                {"model a number", "{\"model\":1e999999,\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"p\"}]}"},
                {"metadata a string", "{\"model\":\"m\",\"max_tokens\":1,\"metadata\":\"u\",\"messages\":[]}"},
                {"user_id an object", "{\"model\":\"m\",\"max_tokens\":1,\"metadata\":{\"user_id\":{\"a\":[]}},\"messages\":[]}"},
                {"stream a string", "{\"model\":\"m\",\"max_tokens\":1,\"stream\":\"yes\",\"messages\":[]}"},
                {"a 2000-digit number", "{\"model\":\"m\",\"max_tokens\":" + "9".repeat(2000) + ",\"messages\":[]}"},
                {"NUL and lone surrogates", "{\"model\":\"m\\u0000\\udfff\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"\\ud800\\u0000\"}]}"},
                {"an empty object", "{}"},
            }) {
                c.add(new Case(p + b[0], path, headers, utf8(b[1]), null));
            }
            String big = "h".repeat(10_000);
            for (String[] h : new String[][] {
                {"session id of 10 KB", "x-claude-code-session-id: " + big},
                {"session id empty", "x-claude-code-session-id:"},
                {"session id twice", "x-claude-code-session-id: a", "x-claude-code-session-id: b"},
                {"codec: session id with controls", "x-claude-code-session-id: a\u0001\u001b[31mb\u007f"},
                {"session id of high bytes", "x-claude-code-session-id: \u00c3\u00a9\u0085\u00ff"},
                {"codec: agent id of 10 KB with controls", "x-claude-code-session-id: s-" + UUID.randomUUID(),
                    "x-claude-code-agent-id: \u0001" + big},
                {"user header of 10 KB", "x-agentfn-user: " + big},
                {"user-agent of 10 KB", "user-agent: claude-cli/" + big.substring(0, 5000) + " (external, " + big.substring(0, 5000)},
                {"codec: user-agent with controls", "user-agent: claude-cli/1\u0007 (\u0008, \u001b)"},
                {"traceparent of 10 KB", "traceparent: 00-" + big},
                {"traceparent almost valid", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-zz"},
                {"traceparent all zero", "traceparent: 00-00000000000000000000000000000000-0000000000000000-01"},
                {"obsolete line folding", "x-claude-code-session-id: a", " folded"},
            }) {
                List<String> hs = new ArrayList<>(headers);
                hs.addAll(List.of(h).subList(1, h.length));
                c.add(new Case(p + h[0], path, hs, utf8(VALID.replace("]}", "],\"tools\":[{\"name\":\"t\"}]}")),
                        h[0].startsWith("codec:") ? "codec" : null));
            }
        }
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void hostileRequestsNeverGetAFiveHundredOfAgentfnsOwnOrAStackTraceOrTheKey(Case c) throws Exception {
        fake.enqueue(FakeTurn.text("ok"));
        RawHttp.Answer a = send(c);
        String all = a.headers() + "\n" + a.body();
        assertFalse(all.contains(KEY), c.name + ": the key is in the answer");
        assertFalse(all.contains("\tat ") || all.contains("Exception") || all.contains("dev.agentfn"),
                c.name + ": a stack trace or internals: " + a.body());
        if ("codec".equals(c.detail)) {
            // a C0 control character in a header value: Netty's HTTP codec answers a bare 400 before any route
            // (Quarkus offers no hook for that answer); nothing is relayed, traced or logged
            assertEquals(400, a.status(), c.name);
            assertEquals(0, fake.receivedRequests(), c.name);
            return;
        }
        // upstream's answers carry its request-id; one without it is the gateway's own
        boolean relayed = a.header("request-id") != null;
        if (!relayed) {
            assertTrue(a.status() >= 400 && a.status() < 500, c.name + ": " + a.status() + " " + a.body());
            anthropicError(a, c.name);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    static Case body(String name, String body, String detail) {
        return new Case(name, MESSAGES, List.of(JSON), utf8(body), detail);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A valid request whose prompt holds the bad bytes. */
    static byte[] broken(int... bad) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(utf8("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"a"));
        for (int b : bad) {
            out.write(b);
        }
        out.writeBytes(utf8("b\"}]}"));
        return out.toByteArray();
    }

    static RawHttp.Answer send(Case c) {
        List<String> headers = new ArrayList<>(List.of("x-api-key: " + KEY, "anthropic-version: 2023-06-01"));
        headers.addAll(c.headers);
        return RawHttp.send(RestAssured.port, "POST", c.path, headers, c.body);
    }

    /** The answer's {@code error} object, after checking it is Anthropic's error shape as JSON. */
    JsonNode anthropicError(RawHttp.Answer a, String name) throws Exception {
        assertTrue(String.valueOf(a.header("content-type")).startsWith("application/json"), name + ": " + a.headers());
        JsonNode root = mapper.readTree(a.body());
        assertEquals("error", root.path("type").asText(), name + ": " + a.body());
        assertTrue(root.path("error").path("type").isTextual() && root.path("error").path("message").isTextual(),
                name + ": " + a.body());
        return root.path("error");
    }

    /** The one trace matching the filter, read back through MLflow's client; waits for it. */
    JsonNode traceWhere(String filter) {
        JsonNode found = mlflow.json("""
                import mlflow, json, time
                found = []
                for _ in range(150):
                    found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                                 filter_string=%s, return_type="list")
                    if found and str(getattr(found[0].info.state, "value", found[0].info.state)) != "IN_PROGRESS":
                        break
                    time.sleep(0.1)
                out = [{"state": str(getattr(t.info.state, "value", t.info.state)), "metadata": t.info.trace_metadata,
                        "request_preview": t.info.request_preview,
                        "spans": [{"name": s.name, "attributes": dict(s.attributes)} for s in t.data.spans]} for t in found]
                print(json.dumps(out, default=str))
                """.formatted(GatewayTest.pyString(filter)));
        assertEquals(1, found.size(), "one trace for " + filter + " (a refused trace is in the spool's rejected/): " + found);
        return found.get(0);
    }

    static void assertLogNotForged(String marker) {
        for (String line : LOG.lines()) {
            assertFalse(line.contains("\n12:00:00.000 INFO  [forged]"), line);
            assertFalse(line.chars().anyMatch(ch -> ch == 0 || ch == 1 || ch == 0x7f || ch == 0x85), "a control character: " + line);
        }
    }
}
