package dev.agentfn.conversation.claudecode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spare CLI processes against the scripted stand-in of the CLI ({@code fake-cli.sh}): a spare serves only its own
 * options, a full pool gives up a spare of other options, and a spare that expires, crashes or outlives the pool is
 * killed with its directories deleted.
 */
class StandbyPoolTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor();
    @TempDir
    Path dir;
    /** Written by the pool's spawner thread, read by the test: a concurrent list. */
    final List<CliRun> started = new CopyOnWriteArrayList<>();
    final Map<String, String> extraEnv = new HashMap<>();
    StandbyPool pool;

    @AfterAll
    static void stopTimer() {
        TIMER.shutdownNow();
    }

    @AfterEach
    void closePool() throws InterruptedException {
        pool.close();
        await(() -> started.stream().allMatch(StandbyPoolTest::gone), "every process reaped, its directories deleted");
    }

    CliCommand command(String model) throws Exception {
        Path script = dir.resolve("fake-cli.sh");
        if (!Files.exists(script)) {
            Files.copy(Path.of(getClass().getResource("/claude-code-fake/fake-cli.sh").toURI()), script);
            script.toFile().setExecutable(true);
        }
        return new CliCommand(script, "", List.of("Write"), List.of(), 3, Optional.empty(), model, "default", false,
                "00000000-0000-0000-0000-000000000001");
    }

    /** What the engine gives the pool: a run for the shape under a new session, in new directories. */
    CliRun spare(CliCommand shape) {
        Workspace ws = Workspace.temporary(dir.resolve("work-root"));
        Map<String, String> env = new HashMap<>(CliCommand.environment(new CliCommand.Credentials("http://127.0.0.1:9",
                Optional.of("sk-test"), Optional.empty()), ws.cwd(), ws.config(), ws.home(), ws.tmp(), null, "sdk-java", 0));
        env.put("MODE", "control");
        env.putAll(extraEnv);
        CliRun run = new CliRun(shape.withSession("00000000-0000-0000-0000-00000000000" + (started.size() + 2)), env, ws,
                new ToolPolicy(List.of("Write"), false), JSON, TIMER,
                new CliRun.Settings(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(2), 1 << 20,
                        Optional.of("2.1.330"), dev.agentfn.config.Secrets.NONE));
        started.add(run);
        return run;
    }

    /** A process started by this test: its config directory is under the test's directory. */
    boolean startedHere(ProcessHandle p) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ"))
                    .contains("CLAUDE_CONFIG_DIR=" + dir);
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    static boolean gone(CliRun run) {
        return run.outcome().isDone() && !Files.exists(run.workspace().root());
    }

    @Test
    void aSpareServesTheNextInvocationOfItsOptionsOnlyAndAnswersIt() throws Exception {
        pool = new StandbyPool(1, Duration.ofMinutes(5), TIMER);
        CliCommand a = command("model-a");
        pool.replenish(a.shape(), this::spare);
        await(() -> pool.size() == 1, "a spare is started");
        assertNull(pool.take(command("model-b").shape()), "no spare for other options");
        CliRun run = pool.take(a.shape());
        assertNotNull(run, "the spare for these options");
        assertEquals(0, pool.size());
        assertTrue(run.command().sessionId().endsWith("2"), "the spare keeps its own session");
        AtomicInteger released = new AtomicInteger();
        var trace = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 65536, List.of(), List.of()), false)
                .start("claude_code_conversation", "AGENT", Optional.empty());
        CliFrame.Result r = run.converse(new ConversationTrace(trace, ConversationListener.NONE, JSON),
                released::incrementAndGet, JSON.createObjectNode().put("type", "user"), "prompt", Duration.ofSeconds(20))
                .get(20, TimeUnit.SECONDS);
        assertFalse(r.isError());
        await(() -> released.get() == 1 && gone(run), "slot released once, process reaped, directories deleted");
    }

    @Test
    void aFullPoolGivesUpItsOldestSpareOfOtherOptionsForOptionsAskedTwiceInARow() throws Exception {
        pool = new StandbyPool(2, Duration.ofMinutes(5), TIMER);
        pool.replenish(command("a").shape(), this::spare);
        await(() -> pool.size() == 1, "spare a");
        pool.replenish(command("b").shape(), this::spare);
        await(() -> pool.size() == 2, "spare b");
        CliRun a = started.get(0);
        pool.replenish(command("c").shape(), this::spare);
        Thread.sleep(300);
        assertEquals(2, started.size(), "options asked once evict nothing");
        pool.replenish(command("c").shape(), this::spare);
        await(() -> started.size() == 3 && pool.size() == 2, "spare c in place of a");
        await(() -> gone(a), "the evicted spare is killed and its directories deleted");
        assertNull(pool.take(command("a").shape()));
        assertSame(started.get(1), pool.take(command("b").shape()));
        assertSame(started.get(2), pool.take(command("c").shape()));
        started.get(1).discard();
        started.get(2).discard();
    }

    @Test
    void alternatingOptionsStartNoProcessBeyondOnePerInvocation() throws Exception {
        pool = new StandbyPool(1, Duration.ofMinutes(5), TIMER);
        CliCommand a = command("a");
        CliCommand b = command("b");
        int invocations = 0;
        int coldStarts = 0;
        for (CliCommand c : List.of(a, b, a, b, a, b)) {
            int before = started.size();
            CliRun spare = pool.take(c.shape());
            if (spare == null) {
                coldStarts++;
            } else {
                spare.discard();
            }
            pool.replenish(c.shape(), this::spare);
            invocations++;
            Thread.sleep(300); // the spare's start, between invocations
            assertTrue(started.size() - before <= 1, "at most one spare started per invocation");
        }
        assertTrue(started.size() + coldStarts <= invocations + 1,
                "processes started: " + started.size() + " spares + " + coldStarts + " on demand for " + invocations);
        assertEquals(4, coldStarts, "the first invocation and those with options b start on demand; a after the first gets spares");
    }

    @Test
    void aPoolFullOfTheseOptionsStartsNoMore() throws Exception {
        pool = new StandbyPool(1, Duration.ofMinutes(5), TIMER);
        pool.replenish(command("a").shape(), this::spare);
        await(() -> pool.size() == 1, "spare a");
        pool.replenish(command("a").shape(), this::spare);
        Thread.sleep(300);
        assertEquals(1, started.size(), "no second process for the same options");
    }

    @Test
    void anUnusedSpareExpiresAndIsKilled() throws Exception {
        pool = new StandbyPool(1, Duration.ofMillis(300), TIMER);
        pool.replenish(command("a").shape(), this::spare);
        await(() -> started.size() == 1 && gone(started.get(0)), "the spare ended after its idle time");
        assertEquals(0, pool.size());
        assertNull(pool.take(command("a").shape()));
    }

    @Test
    void aSpareThatCrashesLeavesThePool() throws Exception {
        extraEnv.put("MODE", "crash-idle");
        pool = new StandbyPool(1, Duration.ofMinutes(5), TIMER);
        pool.replenish(command("a").shape(), this::spare);
        await(() -> started.size() == 1 && gone(started.get(0)), "the crashed spare is reaped");
        assertEquals(0, pool.size());
        assertNull(pool.take(command("a").shape()), "the next invocation starts its own process");
    }

    @Test
    void closingThePoolKillsItsSpares() throws Exception {
        pool = new StandbyPool(2, Duration.ofMinutes(5), TIMER);
        pool.replenish(command("a").shape(), this::spare);
        pool.replenish(command("b").shape(), this::spare);
        await(() -> pool.size() == 2, "two spares");
        List<ProcessHandle> procs = ProcessHandle.current().children().filter(this::startedHere).toList();
        assertEquals(2, procs.size(), "two spare processes run");
        pool.close();
        assertTrue(started.stream().allMatch(StandbyPoolTest::gone), "reaped before close returns");
        assertTrue(procs.stream().noneMatch(ProcessHandle::isAlive), "no process left");
        pool.replenish(command("c").shape(), this::spare);
        Thread.sleep(200);
        assertEquals(2, started.size(), "a closed pool starts nothing");
    }
}
