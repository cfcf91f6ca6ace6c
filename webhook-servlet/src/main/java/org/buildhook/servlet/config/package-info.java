/**
 * Reading {@code buildhook.yaml}, the one configuration file of the WAR and the standalone server:
 * {@link org.buildhook.servlet.config.ConfigLoader} turns it into a {@link org.buildhook.servlet.config.BuildhookConfig},
 * or a {@link org.buildhook.servlet.config.ConfigException} listing every mistake with its file, line and column.
 */
package org.buildhook.servlet.config;
