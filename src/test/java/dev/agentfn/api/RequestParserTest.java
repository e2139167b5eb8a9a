package dev.agentfn.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.claudecode.ClaudeCodeEngine;
import dev.agentfn.conversation.messages.MessagesEngine;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.invocation.InvocationStage;
import dev.agentfn.testing.UnitConfig;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request parser's own rules, without HTTP: what a good body becomes, and the exact 400 each bad one gets.
 * The engines are the real ones (their {@code admit} rules are part of what a request must meet); small limits
 * are configured so that each limit is reached with a short body. BadInputTest and HostileInputTest cover the
 * HTTP side (status, problem document, headers).
 */
class RequestParserTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, String> PROPERTIES = Map.ofEntries(
            Map.entry("agentfn.anthropic.default-model", "claude-default-1"),
            Map.entry("agentfn.anthropic.allowed-models", "claude-other-1"),
            Map.entry("agentfn.invocation.deadline", "20s"),
            Map.entry("agentfn.invocation.default-max-tokens", "1000"),
            Map.entry("agentfn.invocation.default-max-turns", "3"),
            Map.entry("agentfn.invocation.max-turns-limit", "6"),
            Map.entry("agentfn.invocation.max-messages", "4"),
            Map.entry("agentfn.invocation.max-metadata-entries", "2"),
            Map.entry("agentfn.invocation.max-metadata-key-length", "10"),
            Map.entry("agentfn.invocation.max-metadata-value-length", "8"),
            Map.entry("agentfn.tools.http.weather.url", "http://127.0.0.1:9/weather"),
            Map.entry("agentfn.tools.http.weather.description", "Current weather"),
            Map.entry("agentfn.tools.server.search.type", "web_search_20250305"),
            Map.entry("agentfn.claude-code.allowed-tools", "Read,Grep,Bash"));

    static ScheduledExecutorService timer;
    static RequestParser parser;
    /** The same deployment without an allow-list of models, and with a turn default above the turn limit. */
    static RequestParser open;

    @BeforeAll
    static void parsers() {
        timer = Executors.newSingleThreadScheduledExecutor();
        parser = parser(PROPERTIES);
        Map<String, String> props = new HashMap<>(PROPERTIES);
        props.remove("agentfn.anthropic.allowed-models");
        props.put("agentfn.invocation.default-max-turns", "9");
        open = parser(props);
    }

    @AfterAll
    static void stopTimer() {
        timer.shutdownNow();
    }

    /** A parser over the deployment these properties describe, with both real engines. */
    static RequestParser parser(Map<String, String> properties) {
        AgentfnConfig config = UnitConfig.of(properties);
        Pricing pricing = new Pricing(config);
        ToolCatalog catalog = new ToolCatalog(config.tools(), HttpClient::newHttpClient, JSON);
        // admit never calls the model: the messages engine needs no client here
        ConversationEngine messages = new MessagesEngine(null, catalog, pricing, JSON);
        ConversationEngine claudeCode = new ClaudeCodeEngine(config.claudeCode(), "http://127.0.0.1:9",
                java.util.Optional.empty(), java.util.Optional.empty(), 0, pricing, JSON, timer, new Secrets(List.of()));
        // the parser asks the stage only for its engines; nothing here runs an invocation
        InvocationStage stage = new InvocationStage(Map.of(MessagesEngine.NAME, messages, ClaudeCodeEngine.NAME,
                claudeCode), null, null, null, "test", false, JSON, null);
        return new RequestParser(JSON, new StrictJson(JSON, config), config, stage);
    }

    // ---- good bodies ------------------------------------------------------------------------------------------

    @Test
    void aPromptBecomesOneUserTurnWithTheDeploymentsDefaults() {
        InvocationRequest r = parser.parse(body("{'prompt':'Hello there'}"));
        assertEquals("Hello there", r.prompt());
        assertEquals("messages", parser.engine(r), "no engine named: the Messages API tool loop");

        ConversationRequest c = parser.toConversation(r);

        assertEquals(List.of(JSON.createObjectNode().put("role", "user").put("content", "Hello there")), c.messages());
        assertNull(c.system());
        assertEquals("claude-default-1", c.model());
        assertEquals(1000, c.maxTokens());
        assertEquals(3, c.maxTurns());
        assertEquals(List.of("weather", "search"), c.tools(), "no tools named: the whole catalogue");
        assertNull(c.sessionId());
        assertNull(c.user());
        assertFalse(c.deadline().expired());
        assertTrue(c.deadline().remaining().compareTo(Duration.ofSeconds(20)) <= 0, "the configured 20 s budget");
    }

    @Test
    void everyFieldOfAFullBodyIsCarriedThrough() throws Exception {
        String messages = "[{'role':'user','content':'a'},{'role':'assistant','content':[{'type':'text','text':'b'}]},"
                + "{'role':'user','content':[{'type':'text','text':'c'}]}]";
        InvocationRequest r = parser.parse(body("{'messages':" + messages + ",'system':[{'type':'text','text':'Be brief.'}],"
                + "'model':'claude-other-1','max_tokens':128000,'max_turns':6,'tools':['search'],'session_id':'s-1',"
                + "'user':'u-1','metadata':{'team':'blue','env':'12345678'},'engine':'messages'}"));

        assertNull(r.prompt());
        assertEquals(Map.of("team", "blue", "env", "12345678"), r.metadata());
        ConversationRequest c = parser.toConversation(r);

        assertEquals(iterate(JSON.readTree(messages.replace('\'', '"'))), c.messages(), "the history as sent");
        assertEquals(JSON.readTree("[{\"type\":\"text\",\"text\":\"Be brief.\"}]"), c.system());
        assertEquals("claude-other-1", c.model());
        assertEquals(128000, c.maxTokens());
        assertEquals(6, c.maxTurns());
        assertEquals(List.of("search"), c.tools());
        assertEquals("s-1", c.sessionId());
        assertEquals("u-1", c.user());
    }

    @Test
    void theDefaultModelIsAllowedEvenWhenNotListedAndTheTurnDefaultNeverExceedsTheLimit() {
        assertEquals("claude-default-1", parser.toConversation(parser.parse(body("{'prompt':'x','model':'claude-default-1'}")))
                .model());
        assertEquals(6, open.toConversation(open.parse(body("{'prompt':'x'}"))).maxTurns(), "default 9, limit 6");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelIds")
    void anyModelIdFormIsAcceptedWhenNoAllowListIsSet(String model) {
        assertEquals(model, open.toConversation(open.parse(body("{'prompt':'x','model':'" + model + "'}"))).model());
    }

    static Stream<String> modelIds() {
        return Stream.of("claude-sonnet-4-5-20250929", "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet",
                "claude-3-5-sonnet@20240620", "anthropic/claude-sonnet-4-5", "c", "x".repeat(256));
    }

    @Test
    void claudeCodeTakesOneTurnAndTheToolsOnItsAllowListButBashOnlyWhenEnabled() {
        ConversationRequest c = parser.toConversation(parser.parse(body("{'prompt':'x','engine':'claude-code'}")));
        assertEquals(List.of(), c.tools(), "none named: the CLI's own allowed set");
        assertEquals(List.of("Grep", "Read"), parser.toConversation(parser.parse(
                body("{'prompt':'x','engine':'claude-code','tools':['Grep','Read']}"))).tools());
    }

    // ---- bad bodies -------------------------------------------------------------------------------------------

    @Test
    void anEmptyBodyIsRefused() {
        String detail = "the request body is empty; send a JSON object with \"prompt\" or \"messages\"";
        assertEquals(detail, assertThrows(ProblemException.class, () -> parser.parse(null)).problem().detail());
        assertEquals(detail, assertThrows(ProblemException.class, () -> parser.parse(new byte[0])).problem().detail());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("refusals")
    void eachBadBodyGetsItsOwnProblem(String json, String detail) {
        ProblemException e = refuse(json);
        assertEquals(400, e.problem().status());
        assertEquals("https://agentfn.dev/problems/invalid-request", e.problem().type());
        assertEquals(detail, e.problem().detail());
    }

    static Stream<Arguments> refusals() {
        String oneUser = "[{'role':'user','content':'x'}]";
        return Stream.of(
                // the document
                refusal("[]", "the request body must be a JSON object"),
                refusal("'just text'", "the request body must be a JSON object"),
                refusal("{'prompt':'x','temperature':1,'Model':'m'}", "unknown fields [Model, temperature]; accepted "
                        + "fields are [engine, max_tokens, max_turns, messages, metadata, model, prompt, prompt_variables, "
                        + "session_id, system, tools, user]"),
                // types
                refusal("{'prompt':5}", "field 'prompt' has the wrong type: expected a string"),
                refusal("{'prompt':true}", "field 'prompt' has the wrong type: expected a string"),
                refusal("{'prompt':['x']}", "field 'prompt' has the wrong type: expected a string"),
                refusal("{'prompt':'x','max_tokens':'5'}", "field 'max_tokens' has the wrong type: expected an integer"),
                refusal("{'prompt':'x','max_tokens':1.5}", "field 'max_tokens' has the wrong type: expected an integer"),
                refusal("{'prompt':'x','max_turns':true}", "field 'max_turns' has the wrong type: expected an integer"),
                refusal("{'prompt':'x','tools':'weather'}", "field 'tools' has the wrong type: expected a list"),
                refusal("{'prompt':'x','tools':[1]}", "field 'tools[0]' has the wrong type: expected a string"),
                refusal("{'messages':'x'}", "field 'messages' has the wrong type: expected a list"),
                refusal("{'prompt':'x','metadata':['a']}", "field 'metadata' has the wrong type: expected an object of strings"),
                refusal("{'prompt':'x','metadata':{'k':1}}", "field 'metadata.k' has the wrong type: expected a string"),
                refusal("{'prompt':'x','session_id':7}", "field 'session_id' has the wrong type: expected a string"),
                refusal("{'prompt':'x','engine':{}}", "field 'engine' has the wrong type: expected a string"),
                // prompt or messages
                refusal("{'prompt':'x','messages':" + oneUser + "}", "send either \"prompt\" or \"messages\", not both"),
                refusal("{'model':'claude-other-1'}", "send \"prompt\" (a string) or \"messages\" (a conversation)"),
                refusal("{'prompt':'  \\n'}", "\"prompt\" is empty"),
                refusal("{'messages':[]}", "\"messages\" is empty"),
                refusal("{'messages':[{'role':'system','content':'x'}]}", "messages[0].role must be \"user\" or \"assistant\""),
                refusal("{'messages':[{'content':'x'}]}", "messages[0].role must be \"user\" or \"assistant\""),
                refusal("{'messages':[{'role':1,'content':'x'}]}", "messages[0].role must be \"user\" or \"assistant\""),
                refusal("{'messages':['user']}", "messages[0].role must be \"user\" or \"assistant\""),
                refusal("{'messages':[{'role':'user','content':'a'},{'role':'user','content':'b'}]}",
                        "messages[1] repeats role \"user\"; user and assistant turns must alternate"),
                refusal("{'messages':[{'role':'assistant','content':'a'},{'role':'user','content':'b'}]}",
                        "messages[0] must be a user turn"),
                refusal("{'messages':[{'role':'user','content':'a'},{'role':'assistant','content':'b'}]}",
                        "the last message must be a user turn"),
                refusal("{'messages':[{'role':'user','content':''}]}",
                        "messages[0].content must be a non-empty string or list of blocks"),
                refusal("{'messages':[{'role':'user','content':' '}]}",
                        "messages[0].content must be a non-empty string or list of blocks"),
                refusal("{'messages':[{'role':'user','content':[]}]}",
                        "messages[0].content must be a non-empty string or list of blocks"),
                refusal("{'messages':[{'role':'user'}]}", "messages[0].content must be a non-empty string or list of blocks"),
                refusal("{'messages':[{'role':'user','content':5}]}",
                        "messages[0].content must be a non-empty string or list of blocks"),
                refusal("{'messages':[{'role':'user','content':[{'type':'text','text':'a'},{'text':'b'}]}]}",
                        "messages[0].content[1] must be a block with a \"type\""),
                refusal("{'messages':[{'role':'user','content':['a']}]}", "messages[0].content[0] must be a block with a \"type\""),
                refusal("{'messages':[{'role':'user','content':[{'type':5}]}]}",
                        "messages[0].content[0] must be a block with a \"type\""),
                // model
                refusal("{'prompt':'x','model':''}", "\"model\" is empty"),
                refusal("{'prompt':'x','model':'  '}", "\"model\" is empty"),
                refusal("{'prompt':'x','model':'claude sonnet'}", "\"model\" is not a model id; a model id has 1-256 "
                        + "characters: letters, digits and . _ : @ / + -, starting with a letter or digit"),
                refusal("{'prompt':'x','model':'-claude'}", "\"model\" is not a model id; a model id has 1-256 "
                        + "characters: letters, digits and . _ : @ / + -, starting with a letter or digit"),
                refusal("{'prompt':'x','model':'" + "c".repeat(257) + "'}", "\"model\" is not a model id; a model id "
                        + "has 1-256 characters: letters, digits and . _ : @ / + -, starting with a letter or digit"),
                refusal("{'prompt':'x','model':'claude\\u0000x'}", "\"model\" is not a model id; a model id has 1-256 "
                        + "characters: letters, digits and . _ : @ / + -, starting with a letter or digit"),
                refusal("{'prompt':'x','model':'claude-elsewhere-9'}",
                        "model 'claude-elsewhere-9' is not allowed here; allowed: [claude-other-1] and claude-default-1"),
                // numbers
                refusal("{'prompt':'x','max_tokens':0}", "\"max_tokens\" must be between 1 and 128000, got 0"),
                refusal("{'prompt':'x','max_tokens':-5}", "\"max_tokens\" must be between 1 and 128000, got -5"),
                refusal("{'prompt':'x','max_tokens':128001}", "\"max_tokens\" must be between 1 and 128000, got 128001"),
                refusal("{'prompt':'x','max_turns':0}", "\"max_turns\" must be between 1 and 6, got 0"),
                refusal("{'prompt':'x','max_turns':7}", "\"max_turns\" must be between 1 and 6, got 7"),
                // tools and engines
                refusal("{'prompt':'x','tools':['weather','weather']}", "\"tools\" lists 'weather' more than once"),
                refusal("{'prompt':'x','tools':[null]}", "\"tools\" must list tool names (strings)"),
                refusal("{'prompt':'x','tools':['weather','nope']}",
                        "unknown tools [nope]; this deployment offers [weather, search]"),
                refusal("{'prompt':'x','engine':'gpt'}",
                        "engine 'gpt' is not available; this deployment offers [claude-code, messages]"),
                refusal("{'prompt':'x','engine':''}",
                        "engine '' is not available; this deployment offers [claude-code, messages]"),
                refusal("{'engine':'claude-code','messages':[{'role':'user','content':'a'},{'role':'assistant',"
                        + "'content':'b'},{'role':'user','content':'c'}]}", "engine claude-code takes one user turn; "
                        + "continue a conversation by sending its \"session_id\" again (agentfn.claude-code.session-dir "
                        + "must be set)"),
                refusal("{'prompt':'x','engine':'claude-code','tools':['Read','Bash','WebFetch']}",
                        "tools [Bash, WebFetch] are not available to engine claude-code; allowed: [Read, Grep] "
                        + "(agentfn.claude-code.allowed-tools)"),
                // system
                refusal("{'prompt':'x','system':5}", SYSTEM),
                refusal("{'prompt':'x','system':{'type':'text','text':'a'}}", SYSTEM),
                refusal("{'prompt':'x','system':[{'type':'image'}]}", SYSTEM),
                refusal("{'prompt':'x','system':[{'type':'text','text':5}]}", SYSTEM),
                refusal("{'prompt':'x','system':['a']}", SYSTEM),
                // metadata
                refusal("{'prompt':'x','metadata':{'mlflow.user':'a'}}",
                        "metadata key 'mlflow.user' must not be blank or start with \"mlflow.\""),
                refusal("{'prompt':'x','metadata':{'':'a'}}", "metadata key '' must not be blank or start with \"mlflow.\""),
                refusal("{'prompt':'x','metadata':{' ':'a'}}", "metadata key ' ' must not be blank or start with \"mlflow.\""),
                refusal("{'prompt':'x','metadata':{'k':null}}", "metadata value of 'k' must be a string"),
                // session and user
                refusal("{'prompt':'x','session_id':''}", "\"session_id\" must be 1-250 characters"),
                refusal("{'prompt':'x','session_id':'   '}", "\"session_id\" must be 1-250 characters"),
                refusal("{'prompt':'x','session_id':'" + "s".repeat(251) + "'}", "\"session_id\" must be 1-250 characters"),
                refusal("{'prompt':'x','user':''}", "\"user\" must be 1-250 characters"),
                refusal("{'prompt':'x','user':'" + "u".repeat(251) + "'}", "\"user\" must be 1-250 characters"));
    }

    static final String SYSTEM = "\"system\" must be a string or a list of {\"type\":\"text\",\"text\":…} blocks";

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("limits")
    void aBodyOverAConfiguredLimitNamesTheLimitAndItsProperty(String json, String detail) {
        ProblemException e = refuse(json);
        assertEquals(400, e.problem().status());
        assertEquals("https://agentfn.dev/problems/limit-exceeded", e.problem().type());
        assertEquals(detail, e.problem().detail());
    }

    static Stream<Arguments> limits() {
        String turns = "{'role':'user','content':'a'},{'role':'assistant','content':'b'},";
        String longKey = "k".repeat(45);
        return Stream.of(
                refusal("{'messages':[" + turns + turns + "{'role':'user','content':'c'}]}",
                        "\"messages\" has 5 entries; the limit is 4 (agentfn.invocation.max-messages)"),
                refusal("{'prompt':'x','metadata':{'a':'1','b':'2','c':'3'}}",
                        "\"metadata\" has 3 entries; the limit is 2 (agentfn.invocation.max-metadata-entries)"),
                refusal("{'prompt':'x','metadata':{'abcdefghijk':'v'}}", "metadata key 'abcdefghijk…' has 11 "
                        + "characters; the limit is 10 (agentfn.invocation.max-metadata-key-length)"),
                refusal("{'prompt':'x','metadata':{'" + longKey + "':'v'}}", "metadata key '" + "k".repeat(40)
                        + "…' has 45 characters; the limit is 10 (agentfn.invocation.max-metadata-key-length)"),
                refusal("{'prompt':'x','metadata':{'k':'123456789'}}", "metadata value of 'k' has 9 characters; "
                        + "the limit is 8 (agentfn.invocation.max-metadata-value-length)"));
    }

    @Test
    void jsonThatIsNotOneStrictDocumentIsRefusedByTheStrictReader() {
        assertTrue(refuse("{'prompt':").problem().detail().startsWith("malformed JSON at line 1, column "),
                refuse("{'prompt':").problem().detail());
        String duplicate = refuse("{'prompt':'a','prompt':'b'}").problem().detail();
        assertTrue(duplicate.startsWith("malformed JSON") && duplicate.contains("duplicate field 'prompt'"), duplicate);
        assertEquals("unexpected content after the JSON document, which ends at line 1, column 15; send exactly one "
                + "JSON object", refuse("{'prompt':'a'} {}").problem().detail());
    }

    /**
     * Past the range of an int a number is refused by Jackson before the parser's own bounds see it (2^32 + 1 must
     * not wrap around to an accepted 1); the detail is Jackson's, which does not name the field.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfIntRange")
    void aNumberPastTheRangeOfAnIntIsRefusedNotWrapped(String number) {
        String detail = refuse("{'prompt':'x','max_tokens':" + number + "}").problem().detail();
        assertTrue(detail.startsWith("invalid request: Numeric value (" + number + ") out of range of int"), detail);
        assertEquals("field 'max_turns' has the wrong type: expected an integer",
                refuse("{'prompt':'x','max_turns':1e30}").problem().detail());
    }

    static Stream<String> outOfIntRange() {
        return Stream.of("2147483648", "4294967297", "-4294967295", "99999999999999999999");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** Parsed and validated as the invocation resource does it; the 400 it ends with. */
    private static ProblemException refuse(String json) {
        return assertThrows(ProblemException.class, () -> {
            InvocationRequest r = parser.parse(body(json));
            parser.engine(r);
            parser.toConversation(r);
        }, json);
    }

    private static Arguments refusal(String json, String detail) {
        return Arguments.of(json, detail);
    }

    /** JSON written with single quotes, for readability. */
    private static byte[] body(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    private static List<JsonNode> iterate(JsonNode array) {
        List<JsonNode> out = new java.util.ArrayList<>();
        array.forEach(out::add);
        return out;
    }
}
