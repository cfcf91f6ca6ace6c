package org.buildhook.servlet;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.buildhook.core.Sha256;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.StoreConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a copy of this web application that waits for its previous copy in the same JVM (Jetty 12 starts the
 * new copy of a redeployed WAR before it stops the old one; see {@link BuildhookListener}) has the deliveries
 * it verified stored by that previous copy, whose store is still open, instead of refusing them for as long
 * as the previous copy's stop lets its jobs finish ({@code runner.shutdown-grace} + {@code runner.kill-grace}).
 *
 * <p>A running copy {@linkplain #publish publishes} a hand-over in the JVM's platform MBean server (the one
 * registry both copies, each in its own class loader, can reach), under a name made of a hash of its store's
 * URL and its {@code runner.node-id} (no secret in it). Only JDK types cross between the copies: the MBean's
 * one operation, {@code get} ({@link Supplier}), returns a {@code Function<Map<String, Object>, Map<String,
 * Object>>}; a lambda that cannot be serialized, so a remote JMX client cannot obtain it. The request map holds
 * {@code endpoint} (String), {@code body} (byte[]), {@code headers} (Map of String to String), {@code remote}
 * (String), {@code received} (Instant) and {@code secret} (String: which secret matched, for the log, {@code
 * "; signed with secret #N"} or empty; never a secret's value); the answer map {@code kind} (a {@link Receipt.Kind} name),
 * {@code delivery} (String or null), {@code jobs} (List of String) and {@code detail} (String or null); a
 * {@code null} answer means the hand-over is closed: the previous copy's store is closing, and the delivery
 * was not stored. The previous copy stores a delivery as if it had come to it, its signature already verified
 * by the waiting copy, and answers it as its own ({@code 202}, duplicate, {@code 400}, {@code 503}). The jobs
 * of a delivery stored while the previous copy stops wait in the store for the next start, as during the
 * standalone server's graceful stop: its stopping engine starts none.
 */
final class DeliveryHandOver implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryHandOver.class);
    /** The MBeans' domain and type. */
    static final String DOMAIN = "org.buildhook";

    private final ObjectName name;
    private final ReentrantReadWriteLock turn = new ReentrantReadWriteLock();
    private final Function<Map<String, Object>, Map<String, Object>> function;
    private volatile DeliveryService deliveries;
    private volatile boolean closed;
    private volatile boolean registered;

    private DeliveryHandOver(ObjectName name) {
        this.name = name;
        ClassLoader ours = DeliveryHandOver.class.getClassLoader();
        this.function = request -> {
            // Called on a thread of the waiting copy: its class loader is not ours.
            Thread thread = Thread.currentThread();
            ClassLoader theirs = thread.getContextClassLoader();
            thread.setContextClassLoader(ours);
            turn.readLock().lock();
            try {
                DeliveryService service = deliveries;
                if (closed || service == null) {
                    return null;
                }
                Object secret = request.get("secret");
                return answer(service.keep(delivery(request), secret instanceof String note ? note : ""));
            } finally {
                turn.readLock().unlock();
                thread.setContextClassLoader(theirs);
            }
        };
    }

    /**
     * A hand-over for the store of {@code store} and node id {@code nodeId}, not yet published: {@link #serve}
     * and {@link #publish} follow once the delivery pipeline and the application run. Closing it (before the
     * store closes) ends the hand-over: deliveries that meet it afterwards are answered {@code 503}.
     */
    static DeliveryHandOver forStore(StoreConfig store, String nodeId) {
        return new DeliveryHandOver(name(store, nodeId));
    }

    /** The deliveries handed over are stored by {@code service} ({@link DeliveryService#keep}). */
    void serve(DeliveryService service) {
        deliveries = service;
    }

    /**
     * Publishes this hand-over in the platform MBean server, in place of one of the same name (a previous copy
     * that is stopping: its own {@link #close} then leaves this one in place). Only a web application publishes;
     * a failure is said in one WARN, and the next copy then refuses deliveries while it waits, as before.
     */
    void publish() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        // The MBean server is the one object both copies share: its monitor orders their publications and removals.
        synchronized (server) {
            try {
                if (server.isRegistered(name)) {
                    server.unregisterMBean(name);
                }
                Supplier<Function<Map<String, Object>, Map<String, Object>>> supplier = () -> function;
                @SuppressWarnings("unchecked")
                Class<Supplier<?>> type = (Class<Supplier<?>>) (Class<?>) Supplier.class;
                server.registerMBean(new StandardMBean(supplier, type), name);
                registered = true;
            } catch (JMException | RuntimeException e) {
                LOG.warn("the hand-over of deliveries to this copy of the web application could not be published"
                        + " ({}): while a new copy of the WAR waits for this one to stop, it answers deliveries 503",
                        e.toString());
            }
        }
    }

    /**
     * The hand-over published for the store of {@code store} and node id {@code nodeId} by another copy of
     * this web application in this JVM, if any (a copy of a version before the hand-over publishes none).
     */
    static Optional<Function<Map<String, Object>, Map<String, Object>>> find(StoreConfig store, String nodeId) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            Object found = server.invoke(name(store, nodeId), "get", null, null);
            if (found instanceof Function) {
                @SuppressWarnings("unchecked")
                Function<Map<String, Object>, Map<String, Object>> function =
                        (Function<Map<String, Object>, Map<String, Object>>) found;
                return Optional.of(function);
            }
        } catch (javax.management.InstanceNotFoundException e) {
            // none published
        } catch (JMException | RuntimeException e) {
            LOG.warn("the previous copy's hand-over of deliveries could not be reached: {}", e.toString());
        }
        return Optional.empty();
    }

    /**
     * Ends the hand-over: waits for the deliveries being stored through it (each bound by the store's own
     * waits, this wait by a minute), then answers every later one {@code null} (not stored), and removes it
     * from the MBean server unless a newer copy has published its own under the name.
     */
    @Override
    public void close() {
        boolean locked = false;
        try {
            locked = turn.writeLock().tryLock(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        if (locked) {
            turn.writeLock().unlock();
        }
        if (!registered) {
            return;
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        synchronized (server) {
            try {
                if (server.isRegistered(name) && server.invoke(name, "get", null, null) == function) {
                    server.unregisterMBean(name);
                }
            } catch (JMException | RuntimeException e) {
                LOG.warn("the hand-over of deliveries could not be removed: {}", e.toString());
            }
        }
    }

    /** {@code org.buildhook:type=DeliveryHandOver,store=<hash>}: the same for every copy of one store and node id. */
    static ObjectName name(StoreConfig store, String nodeId) {
        byte[] key = (store.url() + "\n" + nodeId).getBytes(StandardCharsets.UTF_8);
        String hash = HexFormat.of().formatHex(Sha256.digest(key), 0, 16);
        try {
            return new ObjectName(DOMAIN + ":type=DeliveryHandOver,store=" + hash);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A verified delivery as the map that crosses to the previous copy; {@code secret} is what its log lines say of
     * the secret that matched ({@code ""} or {@code "; signed with secret #N"}, never a secret).
     */
    static Map<String, Object> request(NewDelivery delivery, String secret) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("secret", secret);
        request.put("endpoint", delivery.endpoint());
        request.put("body", delivery.body());
        request.put("headers", delivery.headers());
        request.put("remote", delivery.remoteAddress());
        request.put("received", delivery.receivedAt());
        return request;
    }

    @SuppressWarnings("unchecked")
    private static NewDelivery delivery(Map<String, Object> request) {
        return new NewDelivery((String) request.get("endpoint"), (Instant) request.get("received"),
                (String) request.get("remote"), (Map<String, String>) request.get("headers"),
                (byte[]) request.get("body"));
    }

    private static Map<String, Object> answer(Receipt receipt) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("kind", receipt.kind().name());
        answer.put("delivery", receipt.deliveryId());
        answer.put("jobs", receipt.jobIds());
        answer.put("detail", receipt.detail());
        return answer;
    }

    /** The previous copy's answer as this copy's receipt. */
    @SuppressWarnings("unchecked")
    static Receipt receipt(Map<String, Object> answer) {
        return new Receipt(Receipt.Kind.valueOf((String) answer.get("kind")), (String) answer.get("delivery"),
                (List<String>) answer.get("jobs"), (String) answer.get("detail"));
    }
}
