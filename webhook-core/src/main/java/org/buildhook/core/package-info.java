/** buildhook's webhook-core module. */
package org.buildhook.core;
