package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * One CLI process from spawn to reaping (claude-conversations spec 3.4 and 3.6): {@code initialize}
 * first ({@link #spawn}), then the user turn ({@link #converse}); permission requests answered from the
 * {@link ToolPolicy}; stdin closed after the {@code result}. The two steps are apart so that a spare
 * process can be started and initialized before its invocation arrives ({@link StandbyPool}). Whatever
 * ends the run (result, deadline, exit, malformed output, write failure, cancellation, discard), the
 * process and its descendants are killed if still alive and reaped, and the workspace is deleted, before
 * the outcome completes.
 *
 * <p>Threads: one reader each for stdout and stderr (blocking pipe reads need a thread; their number is
 * bounded by {@code max-processes}); timers run on the shared scheduler; nothing else waits.
 */
final class CliRun {
    private static final Logger LOG = Logger.getLogger(CliRun.class);
    private static final int STDERR_TAIL_CHARS = 4000;

    /** Fixed parts of a run; {@code secrets} are removed from the CLI's stderr before it is quoted anywhere. */
    record Settings(Duration initializeTimeout, Duration interruptGrace, Duration exitGrace, int maxFrameChars,
            Optional<String> expectedVersion, Secrets secrets) {
    }

    private final CliCommand command;
    private final Map<String, String> env;
    private final Workspace workspace;
    private final ToolPolicy policy;
    private final ObjectMapper json;
    private final ScheduledExecutorService timer;
    private final Settings settings;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<CliFrame.Result> outcome = new CompletableFuture<>();
    private final AtomicBoolean ending = new AtomicBoolean();
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final StringBuilder stderrTail = new StringBuilder();
    private final Object stdinLock = new Object();
    private volatile Process process;
    private Writer stdin;
    private volatile String cliVersion;
    private volatile ScheduledFuture<?> deadlineTimer;
    /** Null until {@link #converse}: a spare has no invocation yet. */
    private volatile ConversationTrace trace;
    /** Guarded by {@code this}, with {@code cleaned}: a spare may end before its invocation takes it. */
    private Runnable release = () -> { };
    private boolean cleaned;

    CliRun(CliCommand command, Map<String, String> env, Workspace workspace, ToolPolicy policy, ObjectMapper json,
            ScheduledExecutorService timer, Settings settings) {
        this.command = command;
        this.env = env;
        this.workspace = workspace;
        this.policy = policy;
        this.json = json;
        this.timer = timer;
        this.settings = settings;
    }

    String cliVersion() {
        return cliVersion;
    }

    CliCommand command() {
        return command;
    }

    Workspace workspace() {
        return workspace;
    }

    /** Completes (normally or not) once the process is reaped and the workspace deleted. */
    CompletableFuture<CliFrame.Result> outcome() {
        return outcome;
    }

    /** Whether nothing has ended this run yet, so it can still take a user turn. */
    boolean usable() {
        return !ending.get();
    }

    /**
     * Spawns the CLI and sends {@code initialize}; {@code initialize-timeout} bounds the reply. Returns at once;
     * a failure ends the run, so {@link #converse} reports it.
     */
    CliRun spawn() {
        ProcessBuilder pb = new ProcessBuilder(command.argv()).directory(workspace.cwd().toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            process = pb.start();
        } catch (IOException e) {
            end(new ConversationException.Unavailable("the Claude Code CLI could not be started: " + e.getMessage(),
                    ClaudeCodeEngine.CLI_PATH_SETTING), false);
            return this;
        }
        stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        reader("stdout", this::readStdout);
        reader("stderr", this::readStderr);
        String initId = "req_1_" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        CompletableFuture<JsonNode> init = new CompletableFuture<>();
        pending.put(initId, init);
        // A deadline shorter than this timeout fires first and decides (504), as it should.
        init.orTimeout(settings.initializeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        init.whenComplete((reply, err) -> {
            if (err != null) {
                end(upstream("cli_initialize", "the CLI did not answer initialize: " + err), false);
            } else if (versionRejected(reply.path("claude_code_version").asText(null))) {
                end(new ConversationException.Unavailable("the Claude Code CLI reports version " + cliVersion
                        + ", this deployment expects " + settings.expectedVersion().orElse(""),
                        ClaudeCodeEngine.VERSION_SETTING), false);
            } else {
                ready.complete(null);
            }
        });
        ObjectNode request = json.createObjectNode().put("type", "control_request").put("request_id", initId);
        request.putObject("request").put("subtype", "initialize").putNull("hooks");
        send(request);
        return this;
    }

    /**
     * Gives the run its invocation: the user turn goes out as soon as the CLI has answered {@code initialize}
     * (at once for a spare that is ready), the deadline is armed, and {@code release} runs once the process is
     * reaped (at once if it already is).
     */
    CompletableFuture<CliFrame.Result> converse(ConversationTrace conversation, Runnable onReaped, ObjectNode userTurn,
            Object tracedPrompt, Duration remaining) {
        boolean reaped;
        synchronized (this) {
            trace = conversation;
            release = onReaped;
            reaped = cleaned;
        }
        if (reaped) {
            onReaped.run();
        }
        deadlineTimer = timer.schedule(() -> end(new ConversationException.DeadlineExceeded(
                "the invocation deadline passed while the Claude Code CLI was running"), true),
                remaining.toNanos(), TimeUnit.NANOSECONDS);
        if (outcome.isDone()) {
            cancelTimer();
        }
        ready.thenRun(() -> {
            conversation.promptSent(tracedPrompt);
            send(userTurn);
        });
        return outcome;
    }

    /** Ends a run that never got an invocation (an expired or evicted spare, shutdown). */
    void discard() {
        end(upstream("discarded", "the spare Claude Code CLI process was not needed"), false);
    }

    /** Cancels the run (client gone): the process is killed and reaped like on any other failure. */
    void cancel() {
        end(upstream("cancelled", "the invocation was cancelled"), true);
    }

    private boolean versionRejected(String version) {
        cliVersion = version;
        return settings.expectedVersion().isPresent() && version != null
                && !settings.expectedVersion().get().equals(version);
    }

    private void reader(String stream, Runnable body) {
        Thread t = new Thread(body, "claude-code-" + stream + "-" + process.pid());
        t.setDaemon(true);
        t.start();
    }

    private void readStdout() {
        try (Reader in = new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)) {
            StringBuilder line = new StringBuilder();
            char[] buf = new char[8192];
            int n;
            while ((n = in.read(buf)) != -1) {
                for (int i = 0; i < n; i++) {
                    char c = buf[i];
                    if (c != '\n') {
                        if (line.length() >= settings.maxFrameChars()) {
                            end(upstream("cli_malformed_output", "a CLI output line exceeds " + settings.maxFrameChars()
                                    + " characters (agentfn.claude-code.max-frame-chars)"), false);
                            return;
                        }
                        line.append(c);
                        continue;
                    }
                    String l = line.toString().strip();
                    line.setLength(0);
                    if (l.startsWith("{") && !frame(l)) {
                        return;
                    }
                }
            }
        } catch (IOException e) {
            // the pipe closed because the process was killed: the exit is handled below
        } catch (RuntimeException e) {
            LOG.error("claude-code stdout handling failed", e);
            end(upstream("cli_driver", "handling the CLI output failed: " + e), false);
            return;
        }
        exitedWithoutResult();
    }

    /** Handles one frame; false when the run ended because of it. */
    private boolean frame(String line) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (IOException e) {
            end(upstream("cli_malformed_output", "the CLI wrote a line that is not JSON"), false);
            return false;
        }
        if (ending.get()) {
            // The run is over (deadline, failure): the trace is closed and the caller answered; drain only.
            return true;
        }
        CliFrame f = CliFrame.of(node);
        ConversationTrace t = trace;
        if (t != null && t.record(f)) {
            return true;
        }
        if (f instanceof CliFrame.ControlRequest r) {
            control(r);
        } else if (f instanceof CliFrame.ControlResponse r) {
            CompletableFuture<JsonNode> p = pending.remove(r.requestId());
            if (p != null && r.success()) {
                p.complete(r.payload());
            } else if (p != null) {
                p.completeExceptionally(new IllegalStateException(r.error()));
            }
        } else if (f instanceof CliFrame.ControlCancel c) {
            // Permission answers are given at once, so there is no handler left to drop; never reply.
            LOG.debugf("the CLI withdrew its request %s", c.requestId());
        } else if (f instanceof CliFrame.Result r && t != null) {
            t.result(r);
            finish(r);
        }
        return true;
    }

    /** Requests from the CLI. Unknown ones get an error reply so the CLI never waits for us. */
    private void control(CliFrame.ControlRequest r) {
        JsonNode req = r.request();
        switch (r.subtype()) {
            case "can_use_tool" -> {
                String tool = req.path("tool_name").asText();
                JsonNode input = req.path("input");
                ToolPolicy.Decision d = policy.decide(tool, input, command.tools(), workspace.cwd());
                ConversationTrace t = trace;
                if (t != null) {
                    t.permission(req.path("tool_use_id").asText(null), tool, d);
                }
                ObjectNode answer = json.createObjectNode();
                if (d.allow()) {
                    answer.put("behavior", "allow").set("updatedInput", input);
                } else {
                    answer.put("behavior", "deny").put("message", d.reason());
                }
                reply(r.requestId(), answer);
            }
            // No hooks are registered at initialize; should one arrive anyway, let the CLI go on.
            case "hook_callback" -> reply(r.requestId(), json.createObjectNode().put("continue", true));
            case "mcp_message" -> replyError(r.requestId(), "no SDK MCP server '"
                    + req.path("server_name").asText() + "' runs in agentfn");
            default -> replyError(r.requestId(), "unsupported control request: " + r.subtype());
        }
    }

    private void reply(String requestId, ObjectNode payload) {
        ObjectNode msg = json.createObjectNode().put("type", "control_response");
        ObjectNode response = msg.putObject("response").put("subtype", "success").put("request_id", requestId);
        response.set("response", payload);
        send(msg);
    }

    private void replyError(String requestId, String error) {
        ObjectNode msg = json.createObjectNode().put("type", "control_response");
        msg.putObject("response").put("subtype", "error").put("request_id", requestId).put("error", error);
        send(msg);
    }

    /** Writes one NDJSON line; the lock keeps lines from the reader and the timers whole. */
    private void send(ObjectNode message) {
        synchronized (stdinLock) {
            try {
                stdin.write(json.writeValueAsString(message));
                stdin.write('\n');
                stdin.flush();
            } catch (IOException e) {
                // The process is gone or going; its exit (or the failure that ended it) decides the outcome.
                LOG.debugf("writing to the CLI failed: %s", e.getMessage());
            }
        }
    }

    private void closeStdin() {
        synchronized (stdinLock) {
            try {
                stdin.close();
            } catch (IOException ignored) {
                // already closed by the process exiting
            }
        }
    }

    private void readStderr() {
        try (Reader in = new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)) {
            char[] buf = new char[2048];
            int n;
            while ((n = in.read(buf)) != -1) {
                synchronized (stderrTail) {
                    stderrTail.append(buf, 0, n);
                    if (stderrTail.length() > STDERR_TAIL_CHARS) {
                        stderrTail.delete(0, stderrTail.length() - STDERR_TAIL_CHARS);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process was killed
        }
    }

    private String stderrTail() {
        synchronized (stderrTail) {
            return stderrTail.toString().strip();
        }
    }

    /** stdout ended before a result: the CLI crashed or exited on its own. */
    private void exitedWithoutResult() {
        if (ending.get()) {
            return;
        }
        Process p = process;
        p.onExit().completeOnTimeout(p, settings.exitGrace().toMillis(), TimeUnit.MILLISECONDS).thenRun(() -> {
            String code = p.isAlive() ? "still running" : "exit code " + p.exitValue();
            String tail = stderrTail();
            end(upstream("cli_exit", "the Claude Code CLI stopped before its result (" + code + ")"
                    + (tail.isEmpty() ? "" : ": " + settings.secrets().redact(tail))), false);
        });
    }

    /** The result arrived: close stdin so the CLI exits (it does, with 0), then reap it. */
    private void finish(CliFrame.Result result) {
        if (!ending.compareAndSet(false, true)) {
            return;
        }
        cancelTimer();
        List<ProcessHandle> descendants = process.descendants().toList();
        closeStdin();
        reap(descendants, settings.exitGrace()).whenComplete((v, err) -> outcome.complete(result));
    }

    /**
     * Ends the run with a failure. With {@code interrupt}, the CLI first gets an {@code interrupt}
     * and {@code interrupt-grace} to stop on its own.
     */
    private void end(RuntimeException failure, boolean interrupt) {
        if (!ending.compareAndSet(false, true)) {
            return;
        }
        cancelTimer();
        ready.completeExceptionally(failure);
        ConversationTrace t = trace;
        if (t != null) {
            t.closeOpen(failure.getClass().getSimpleName());
        }
        Process p = process;
        if (p == null) {
            cleanup();
            outcome.completeExceptionally(failure);
            return;
        }
        List<ProcessHandle> descendants = p.descendants().toList();
        CompletableFuture<Process> stopped;
        if (interrupt && p.isAlive()) {
            ObjectNode req = json.createObjectNode().put("type", "control_request")
                    .put("request_id", "req_interrupt_" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            req.putObject("request").put("subtype", "interrupt");
            send(req);
            stopped = p.onExit().completeOnTimeout(p, settings.interruptGrace().toMillis(), TimeUnit.MILLISECONDS);
        } else {
            stopped = CompletableFuture.completedFuture(p);
        }
        stopped.thenCompose(x -> {
            closeStdin();
            return reap(descendants, Duration.ZERO);
        }).whenComplete((v, err) -> outcome.completeExceptionally(failure));
    }

    /**
     * Kills whatever still runs and waits, bounded, until it is reaped. The tools the CLI started go first,
     * while the CLI is still alive to reap them; killed after it, they would be orphans that a container's
     * PID 1 may never reap.
     */
    private CompletableFuture<Void> reap(List<ProcessHandle> descendants, Duration grace) {
        Process p = process;
        return p.onExit().completeOnTimeout(p, grace.toMillis(), TimeUnit.MILLISECONDS)
                .thenCompose(x -> {
                    List<ProcessHandle> all = new java.util.ArrayList<>(descendants);
                    p.descendants().filter(d -> !all.contains(d)).forEach(all::add);
                    all.forEach(ProcessHandle::destroyForcibly);
                    return CompletableFuture.allOf(all.stream().map(ProcessHandle::onExit)
                                    .toArray(CompletableFuture[]::new))
                            .completeOnTimeout(null, 1, TimeUnit.SECONDS);
                })
                .thenCompose(x -> {
                    p.destroyForcibly();
                    return p.onExit().completeOnTimeout(p, 5, TimeUnit.SECONDS);
                })
                .handle((x, err) -> {
                    cleanup();
                    return null;
                });
    }

    private void cleanup() {
        workspace.delete();
        Runnable r;
        synchronized (this) {
            cleaned = true;
            r = release;
        }
        r.run();
    }

    private void cancelTimer() {
        ScheduledFuture<?> t = deadlineTimer;
        if (t != null) {
            t.cancel(false);
        }
    }

    private static ConversationException.Upstream upstream(String type, String message) {
        return new ConversationException.Upstream(0, type, message, null, null);
    }
}
