package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code claude-code} engine: each invocation runs the Claude Code CLI in its own directories and
 * drives it over stream-json as the Agent SDK's {@code ClaudeSDKClient} does, tracing it live
 * (claude-conversations spec 3). Sessions: the CLI session id is the caller's {@code session_id} when it
 * is a UUID, a UUID derived from it otherwise, or a fresh one; with a session directory configured, a
 * later request with the same id resumes the session. Without one, an invocation may take a spare CLI
 * process started for the same options ahead of it ({@link StandbyPool}), and asks for the next.
 */
public final class ClaudeCodeEngine implements ConversationEngine, AutoCloseable {
    public static final String NAME = "claude-code";
    static final String CLI_PATH_SETTING = "agentfn.claude-code.cli-path";
    static final String VERSION_SETTING = "agentfn.claude-code.expected-version";

    private final AgentfnConfig.ClaudeCode config;
    private final CliCommand.Credentials credentials;
    private final Pricing pricing;
    private final ObjectMapper json;
    private final ScheduledExecutorService timer;
    private final ToolPolicy policy;
    private final Semaphore slots;
    /** The configured work root; throw-away directories go into this process's own directory under it. */
    private final Path workRoot;
    /** This process's directory under the work root, made on first use; guarded by {@code this}. */
    private Path processDir;
    private final CliRun.Settings settings;
    private final StandbyPool standby;
    private final int maxRetries;

    /** @param maxRetries the CLI's own retries of a failed model call ({@code agentfn.anthropic.max-retries}) */
    public ClaudeCodeEngine(AgentfnConfig.ClaudeCode config, String baseUrl, java.util.Optional<String> apiKey,
            java.util.Optional<String> authToken, int maxRetries, Pricing pricing, ObjectMapper json,
            ScheduledExecutorService timer, Secrets secrets) {
        this.config = config;
        this.maxRetries = maxRetries;
        this.credentials = new CliCommand.Credentials(baseUrl, apiKey, authToken);
        this.pricing = pricing;
        this.json = json;
        this.timer = timer;
        this.policy = new ToolPolicy(config.allowedTools(), config.bashEnabled());
        this.slots = new Semaphore(config.maxProcesses());
        this.workRoot = workRoot(config);
        this.settings = new CliRun.Settings(config.initializeTimeout(), config.interruptGrace(), config.exitGrace(),
                config.maxFrameChars(), config.expectedVersion(), secrets);
        this.standby = new StandbyPool(config.sessionDir().isPresent() ? 0 : config.standbyProcesses(),
                config.standbyMaxIdle(), timer);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** As MLflow's own Claude Code tracing names the root. */
    @Override
    public String rootSpanName() {
        return "claude_code_conversation";
    }

    /** Whether a request's tool names are all on the deployment's allow-list. */
    /**
     * One user turn (a conversation continues through its {@code session_id}); tools are CLI tool names from
     * {@code agentfn.claude-code.allowed-tools}, Bash only when enabled; none named: the CLI's allowed set.
     */
    @Override
    public List<String> admit(List<JsonNode> messages, List<String> requestedTools) {
        if (messages.size() > 1) {
            throw new ConversationException.InvalidRequest("engine claude-code takes one user turn; continue a "
                    + "conversation by sending its \"session_id\" again (agentfn.claude-code.session-dir must be set)");
        }
        if (requestedTools == null) {
            return List.of();
        }
        List<String> refused = requestedTools.stream().filter(t -> !policy.allows(t)).toList();
        if (!refused.isEmpty()) {
            throw new ConversationException.InvalidRequest("tools " + refused + " are not available to engine "
                    + "claude-code; allowed: " + config.allowedTools().stream().filter(policy::allows).toList()
                    + " (agentfn.claude-code.allowed-tools)");
        }
        return List.copyOf(requestedTools);
    }

    /**
     * What the CLI is given for this request, from the same sources as its command line ({@link #start}): no
     * {@code max_tokens} (the CLI picks its own output cap), the tools it offers (the deployment's allow-list when
     * the request names none), the permission mode and budget.
     */
    @Override
    public Map<String, Object> tracedOptions(ConversationRequest request) {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("model", request.model());
        options.put("max_turns", request.maxTurns());
        options.put("tools", policy.offered(request.tools()));
        options.put("permission_mode", config.permissionMode());
        config.maxBudgetUsd().ifPresent(b -> options.put("max_budget_usd", b.doubleValue()));
        return options;
    }

    @Override
    public CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
            ConversationListener listener) {
        Path cli = config.cliPath().orElse(null);
        if (cli == null || !Files.isRegularFile(cli) || !Files.isExecutable(cli)) {
            return CompletableFuture.failedFuture(new ConversationException.Unavailable(
                    cli == null ? "no Claude Code CLI is configured" : "the Claude Code CLI is missing at " + cli,
                    CLI_PATH_SETTING));
        }
        if (!slots.tryAcquire()) {
            return CompletableFuture.failedFuture(new ConversationException.Unavailable("all "
                    + config.maxProcesses() + " Claude Code CLI processes are busy", "agentfn.claude-code.max-processes"));
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                slots.release();
            }
        };
        try {
            return start(cli, request, trace, listener, release);
        } catch (RuntimeException e) {
            release.run();
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletableFuture<ConversationResult> start(Path cli, ConversationRequest request, ActiveTrace trace,
            ConversationListener listener, Runnable release) {
        String sessionId = sessionUuid(request.sessionId());
        Workspace sessionWs = config.sessionDir().map(d -> Workspace.forSession(d, sessionId, processDir())).orElse(null);
        boolean resume = sessionWs != null && sessionWs.hasSession(sessionId);
        List<String> offered = policy.offered(request.tools());
        CliCommand command = new CliCommand(cli, systemText(request.system()), offered,
                config.bashEnabled() ? List.of() : List.of(ToolPolicy.BASH), request.maxTurns(), config.maxBudgetUsd(),
                request.model(), config.permissionMode(), resume, sessionId);
        String traceparent = trace.traceparent();
        CliRun run = processFor(command, sessionWs, traceparent);
        trace.root().attribute("claude_code.resumed", resume)
                // a spare runs under a session of its own
                .attribute("claude_code.standby", !run.command().sessionId().equals(sessionId))
                .attribute("claude_code.permission_mode", config.permissionMode())
                .attribute("claude_code.cwd", run.workspace().cwd().toString())
                .attribute("claude_code.allowed_tools", command.tools());
        String cliSession = run.command().sessionId();
        String session = request.sessionId() != null ? request.sessionId() : cliSession;
        trace.metadata(MlflowKeys.Metadata.SESSION, session);
        trace.root().attribute(MlflowKeys.Span.SESSION_ID, session).attribute(MlflowKeys.GenAi.CONVERSATION_ID, session);
        ConversationTrace ct = new ConversationTrace(trace, listener, json, pricing,
                new ConversationTrace.Setup(command.systemPrompt(), !cliSession.equals(sessionId)));
        JsonNode last = request.messages().get(request.messages().size() - 1);
        ObjectNode userTurn = json.createObjectNode().put("type", "user");
        userTurn.putObject("message").put("role", "user").set("content", last.path("content"));
        userTurn.putNull("parent_tool_use_id");
        userTurn.put("session_id", "default");
        Object tracedPrompt = json.convertValue(last, Object.class);
        CliRun started = run;
        CompletableFuture<ConversationResult> out = run.converse(ct, release, userTurn, tracedPrompt,
                        request.deadline().remaining())
                .thenApply(result -> result(request, trace, ct, result, cliSession));
        // Cancelled by the caller (client disconnected): end the process like any other failure.
        out.whenComplete((r, err) -> {
            if (out.isCancelled()) {
                started.cancel();
            }
        });
        return out;
    }

    /**
     * The process for this invocation: its session's, or a spare started for the same options when one waits
     * (without a session directory the session id only names the transcript), or a new one. Each invocation
     * without a session directory asks for a spare for the next.
     */
    private CliRun processFor(CliCommand command, Workspace sessionWs, String traceparent) {
        if (sessionWs != null) {
            return process(command, sessionWs, traceparent).spawn();
        }
        CliRun spare = standby.take(command.shape());
        standby.replenish(command.shape(), shape -> process(shape.withSession(UUID.randomUUID().toString()),
                Workspace.temporary(processDir()), null));
        return spare != null ? spare : process(command, Workspace.temporary(processDir()), traceparent).spawn();
    }

    /** A CLI run, not yet spawned; {@code traceparent} is null for a spare, started before its invocation. */
    private CliRun process(CliCommand command, Workspace ws, String traceparent) {
        Map<String, String> env = CliCommand.environment(credentials, ws.cwd(), ws.config(), ws.home(), ws.tmp(),
                traceparent, config.entrypoint(), maxRetries);
        return new CliRun(command, env, ws, policy, json, timer, settings);
    }

    /** Ends the spare CLI processes (at shutdown) and removes this process's directory. */
    @Override
    public void close() {
        standby.close();
        synchronized (this) {
            if (processDir != null) {
                Workspace.deleteTree(processDir);
                processDir = null; // a later use claims it again, marker included
            }
        }
    }

    /**
     * Removes the directories agentfn processes that are no longer running left under the work root (killed
     * processes delete nothing); run at start. Returns what was removed.
     */
    public static List<Path> removeLeftovers(AgentfnConfig.ClaudeCode config) {
        return ProcessDirectory.removeLeftovers(workRoot(config));
    }

    private static Path workRoot(AgentfnConfig.ClaudeCode config) {
        return config.workRoot().orElse(Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Made on first use, not at construction: a work root that cannot be written fails invocations, not start-up. */
    private synchronized Path processDir() {
        if (processDir == null) {
            processDir = ProcessDirectory.claim(workRoot, ProcessDirectory.Owner.current());
        }
        return processDir;
    }

    private ConversationResult result(ConversationRequest request, ActiveTrace trace, ConversationTrace ct,
            CliFrame.Result r, String sessionId) {
        JsonNode j = r.json();
        String cliSession = r.sessionId() == null ? sessionId : r.sessionId();
        String session = request.sessionId() != null ? request.sessionId() : cliSession;
        boolean maxTurns = "error_max_turns".equals(r.subtype()) || "max_turns".equals(j.path("terminal_reason").asText());
        if (r.isError() && !maxTurns) {
            throw failure(r);
        }
        JsonNode modelUsage = r.modelUsage();
        Usage usage = Usage.ZERO;
        Pricing.Cost listCost = Pricing.Cost.ZERO;
        double cliCost = 0;
        String model = request.model();
        long mostOutput = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = modelUsage.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode m = e.getValue();
            Usage u = new Usage(m.path("inputTokens").asLong(), m.path("outputTokens").asLong(),
                    m.path("cacheReadInputTokens").asLong(), m.path("cacheCreationInputTokens").asLong());
            usage = usage.plus(u);
            listCost = listCost.plus(pricing.cost(e.getKey(), u));
            cliCost += m.path("costUSD").asDouble();
            if (u.outputTokens() > mostOutput) {
                mostOutput = u.outputTokens();
                model = e.getKey();
            }
        }
        if (modelUsage.size() == 0) {
            usage = Usage.fromJson(j.path("usage"));
            listCost = pricing.cost(model, usage);
            cliCost = j.path("total_cost_usd").asDouble(listCost.totalUsd());
        }
        String output = r.text().isEmpty() ? ct.lastText() : r.text();
        ArrayNode content = json.createArrayNode();
        content.addObject().put("type", "text").put("text", output);
        String stop = maxTurns ? "max_turns" : j.path("stop_reason").asText("end_turn");
        return new ConversationResult(output, content, stop, j.path("num_turns").asInt(ct.llmCalls()), usage,
                split(cliCost, listCost), model, session);
    }

    /** The CLI's own price (what it reports) split into input and output in the proportion of our price table. */
    private static Pricing.Cost split(double total, Pricing.Cost list) {
        if (list.totalUsd() <= 0) {
            return new Pricing.Cost(total, 0);
        }
        double in = total * list.inputUsd() / list.totalUsd();
        return new Pricing.Cost(in, total - in);
    }

    /** An {@code is_error} result: an API error keeps its status so it maps like the messages engine's. */
    private static ConversationException failure(CliFrame.Result r) {
        JsonNode j = r.json();
        JsonNode status = j.get("api_error_status");
        if (status != null && status.isNumber()) {
            return new ConversationException.Upstream(status.asInt(), j.path("api_error_type").asText("api_error"),
                    r.text(), null, null);
        }
        StringBuilder msg = new StringBuilder(r.text());
        j.path("errors").forEach(e -> msg.append(msg.length() > 0 ? "; " : "").append(e.isTextual() ? e.asText() : e.toString()));
        String type = j.path("terminal_reason").asText(r.subtype());
        return new ConversationException.Upstream(0, "claude_code_" + type, "the Claude Code CLI failed ("
                + r.subtype() + "): " + msg, null, null);
    }

    /** The caller's session id when it is a UUID (the CLI requires one), else a UUID derived from it. */
    static String sessionUuid(String requested) {
        if (requested == null) {
            return UUID.randomUUID().toString();
        }
        try {
            return UUID.fromString(requested).toString().equals(requested.toLowerCase(java.util.Locale.ROOT))
                    ? requested.toLowerCase(java.util.Locale.ROOT) : derived(requested);
        } catch (IllegalArgumentException e) {
            return derived(requested);
        }
    }

    private static String derived(String requested) {
        return UUID.nameUUIDFromBytes(("agentfn-session:" + requested).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static String systemText(JsonNode system) {
        if (system == null || system.isNull()) {
            return "";
        }
        if (system.isTextual()) {
            return system.asText();
        }
        StringBuilder sb = new StringBuilder();
        system.forEach(b -> sb.append(sb.length() > 0 ? "\n\n" : "").append(b.path("text").asText("")));
        return sb.toString();
    }
}
