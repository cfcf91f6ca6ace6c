/** JMH benchmarks of buildhook's hot paths. */
package org.buildhook.benchmarks;
