package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.junit.jupiter.api.Test;

/** {@link Routes} (what the standalone server registers) and {@code WEB-INF/web.xml} stay in step. */
class RoutesTest {

    @Test
    void webXmlDeclaresExactlyTheRoutes() throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document xml = factory.newDocumentBuilder().parse(Path.of("src/main/webapp/WEB-INF/web.xml").toFile());
        Map<String, String> classes = new LinkedHashMap<>();
        Map<String, Boolean> asyncs = new LinkedHashMap<>();
        Map<String, Boolean> routeAsyncs = new LinkedHashMap<>();
        NodeList servlets = xml.getElementsByTagName("servlet");
        for (int i = 0; i < servlets.getLength(); i++) {
            Element s = (Element) servlets.item(i);
            classes.put(text(s, "servlet-name"), text(s, "servlet-class"));
            NodeList async = s.getElementsByTagName("async-supported");
            asyncs.put(text(s, "servlet-name"), async.getLength() > 0 && async.item(0).getTextContent().strip().equals("true"));
        }
        Map<String, List<String>> patterns = new LinkedHashMap<>();
        NodeList mappings = xml.getElementsByTagName("servlet-mapping");
        for (int i = 0; i < mappings.getLength(); i++) {
            Element m = (Element) mappings.item(i);
            NodeList urls = m.getElementsByTagName("url-pattern");
            List<String> list = patterns.computeIfAbsent(text(m, "servlet-name"), k -> new ArrayList<>());
            for (int j = 0; j < urls.getLength(); j++) {
                list.add(urls.item(j).getTextContent().strip());
            }
        }

        Map<String, String> routeClasses = new LinkedHashMap<>();
        Map<String, List<String>> routePatterns = new LinkedHashMap<>();
        for (Routes.Route r : Routes.ALL) {
            routeClasses.put(r.name(), r.servlet().getName());
            routePatterns.put(r.name(), r.patterns());
            routeAsyncs.put(r.name(), r.async());
        }
        assertThat(classes).isEqualTo(routeClasses);
        assertThat(patterns).isEqualTo(routePatterns);
        assertThat(asyncs).isEqualTo(routeAsyncs).containsEntry("webhook", true);
        assertThat(routePatterns).containsEntry("admin-api", List.of("/api/*"));
    }

    private static String text(Element parent, String tag) {
        return parent.getElementsByTagName(tag).item(0).getTextContent().strip();
    }
}
