/** buildhook's distribution module. */
package org.buildhook.distribution;
