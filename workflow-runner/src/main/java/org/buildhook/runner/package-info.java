/** buildhook's workflow-runner module. */
package org.buildhook.runner;
