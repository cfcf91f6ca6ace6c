/**
 * The references the load benchmark measures in the same run as the receivers, so that each
 * figure can be read as a ratio to what this machine allows: the fsync ceiling of the data
 * folder's file system ({@link org.buildhook.benchmarks.limits.FsyncCeiling}), a bare Jetty servlet
 * on the standalone server's connector ({@link org.buildhook.benchmarks.limits.BareServlet}) and
 * the Java process-start floor ({@link org.buildhook.benchmarks.limits.ProcessFloor}).
 */
package org.buildhook.benchmarks.limits;
