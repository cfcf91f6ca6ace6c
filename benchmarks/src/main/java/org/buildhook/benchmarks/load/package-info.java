/**
 * An HTTP load generator for buildhook and comparable webhook receivers: distinct, correctly
 * signed JobServ bodies at a fixed concurrency, with latency percentiles and, optionally, the
 * trace the triggered commands leave (docs/BENCHMARKS.md, "Load: buildhook vs adnanh/webhook").
 */
package org.buildhook.benchmarks.load;
