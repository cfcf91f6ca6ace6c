/** buildhook's webhook-servlet module. */
package org.buildhook.servlet;
