package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.claudecode.ClaudeCodeEngine;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.conversation.messages.MessagesEngine;
import dev.agentfn.conversation.messages.RetryPolicy;
import dev.agentfn.conversation.tools.ToolCatalog;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Builds the conversation side once at start-up: the Anthropic client (on Quarkus' Vert.x event loops), one
 * JDK HTTP client for HTTP tools, the tool catalogue.
 */
@Singleton
public class ConversationBeans {
    private static final Logger LOG = Logger.getLogger(ConversationBeans.class);
    /**
     * Runs the JDK HTTP client's completions (HTTP tool results). They never block, so a few
     * threads suffice; the JDK default is an unbounded cached pool that spawns a thread per burst.
     * The queue is bounded; when full the client's own thread runs the task.
     */
    private final ExecutorService clientExecutor = new ThreadPoolExecutor(2, Math.max(4, 2 * Runtime.getRuntime()
            .availableProcessors()), 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(65_536), r -> {
                Thread t = new Thread(r, "agentfn-http-client");
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.CallerRunsPolicy());

    /** Set once the claude-code engine is built (lazily, on first use), so shutdown can end its spare processes. */
    private volatile ClaudeCodeEngine claudeCode;

    /** Deadlines and grace periods of CLI processes: timers only, never blocking work. */
    private final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "agentfn-claude-code-timer");
                t.setDaemon(true);
                return t;
            });

    /** The Messages API endpoint, or the substitute (the local stand-in) when one is active. */
    @Produces
    @Singleton
    AnthropicClient.Endpoint endpoint(AgentfnConfig config, SubstituteEndpoint substitute) {
        AgentfnConfig.Anthropic a = config.anthropic();
        Optional<URI> stand = substitute.baseUrl();
        if (stand.isPresent()) {
            return new AnthropicClient.Endpoint(stand.get(), Optional.of("stand-in"), Optional.empty(), a.version(),
                    a.betas().orElse(List.of()));
        }
        if (a.apiKey().isEmpty() && a.authToken().isEmpty()) {
            LOG.warn("Neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set: model calls will be rejected upstream");
        }
        return new AnthropicClient.Endpoint(URI.create(a.baseUrl()), a.apiKey(), a.authToken(), a.version(),
                a.betas().orElse(List.of()));
    }

    @Produces
    @Singleton
    HttpClient httpClient(AgentfnConfig config) {
        return HttpClient.newBuilder().connectTimeout(config.anthropic().connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1)
                .executor(clientExecutor).build();
    }

    @Produces
    @Singleton
    AnthropicClient anthropicClient(Vertx vertx, ObjectMapper json, AnthropicClient.Endpoint endpoint,
            AgentfnConfig config) {
        RetryPolicy policy = new RetryPolicy(config.anthropic().maxRetries(), config.anthropic().maxRetryAfter(),
                () -> ThreadLocalRandom.current().nextDouble());
        return new AnthropicClient(vertx, config.anthropic().connectTimeout(), json, endpoint, policy, Sleeper.SYSTEM);
    }

    @Produces
    @Singleton
    ToolCatalog toolCatalog(AgentfnConfig config, jakarta.inject.Provider<HttpClient> http, ObjectMapper json) {
        return new ToolCatalog(config.tools(), http::get, json);
    }

    @Produces
    @Singleton
    MessagesEngine messagesEngine(AnthropicClient client, ToolCatalog catalog, Pricing pricing, ObjectMapper json) {
        return new MessagesEngine(client, catalog, pricing, json);
    }

    /** The Claude Code CLI engine; it reaches the same Messages API endpoint (or stand-in) as {@code messages}. */
    @Produces
    @Singleton
    ClaudeCodeEngine claudeCodeEngine(AgentfnConfig config, AnthropicClient.Endpoint endpoint, Pricing pricing,
            ObjectMapper json, Secrets secrets) {
        claudeCode = new ClaudeCodeEngine(config.claudeCode(), endpoint.baseUrl().toString(), endpoint.apiKey(),
                endpoint.authToken(), config.anthropic().maxRetries(), pricing, json, timer, secrets);
        return claudeCode;
    }

    /**
     * Claude Code directories a killed agentfn process left behind (session transcripts, {@code .claude.json})
     * are removed at start, off the start-up path: only directories whose marker names a process no longer running.
     */
    void removeLeftovers(@Observes StartupEvent event, AgentfnConfig config) {
        if (config.claudeCode().cliPath().isEmpty()) {
            return;
        }
        Thread t = new Thread(() -> {
            List<java.nio.file.Path> removed = ClaudeCodeEngine.removeLeftovers(config.claudeCode());
            if (!removed.isEmpty()) {
                LOG.infof("Removed %d Claude Code work directories of agentfn processes no longer running: %s",
                        removed.size(), removed);
            }
        }, "agentfn-claude-code-cleanup");
        t.setDaemon(true);
        t.start();
    }

    void stop(@Observes ShutdownEvent event) {
        ClaudeCodeEngine cc = claudeCode;
        if (cc != null) {
            cc.close(); // its spare CLI processes, before the timer they use goes
        }
        timer.shutdownNow();
        clientExecutor.shutdown();
    }
}
