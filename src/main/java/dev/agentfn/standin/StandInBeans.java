package dev.agentfn.standin;

import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.SubstituteEndpoint;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.net.URI;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Why the production jar contains a fake: {@code bin/demo} and a first try without credentials must run end to end,
 * so with {@code agentfn.anthropic.stand-in=auto} and no Anthropic credential (or {@code always}) the local stand-in
 * of the Messages API starts here, once, and the engines reach it as their {@link SubstituteEndpoint}. Every answer
 * and trace then says so (the banner below, {@code "stand_in": true}, metadata {@code agentfn.stand_in}). The
 * production default {@code never} starts nothing.
 */
@Singleton
public class StandInBeans implements SubstituteEndpoint {
    private static final Logger LOG = Logger.getLogger(StandInBeans.class);

    private final Optional<URI> baseUrl;
    private final FakeAnthropicServer server;

    StandInBeans(AgentfnConfig config) {
        AgentfnConfig.Anthropic a = config.anthropic();
        boolean noCredentials = a.apiKey().isEmpty() && a.authToken().isEmpty();
        String mode = a.standIn();
        if (mode.equals("always") || (mode.equals("auto") && noCredentials)) {
            server = new FakeAnthropicServer().start(0);
            baseUrl = Optional.of(URI.create(server.baseUrl()));
            LOG.warn("\n*****************************************************************************\n"
                    + "*  NO ANTHROPIC CREDENTIALS: a LOCAL STAND-IN of the Messages API answers,  *\n"
                    + "*  NOT Claude. Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) for Claude.  *\n"
                    + "*  Stand-in at " + server.baseUrl() + "\n"
                    + "*****************************************************************************");
        } else {
            server = null;
            baseUrl = Optional.empty();
        }
    }

    @Override
    public Optional<URI> baseUrl() {
        return baseUrl;
    }

    void stop(@Observes ShutdownEvent event) {
        if (server != null) {
            server.close();
        }
    }
}
