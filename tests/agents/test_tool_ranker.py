from bestbox.agents.tool_ranker import shortlist
from bestbox.agents.tools import tools_for

CASES = {
    "erp": {"show me the top five vendors by spend this quarter": "top_vendors_by_spend",
            "Analyze Q1 procurement trends": "procurement_trends",
            "which invoices are overdue": "overdue_invoices",
            "create a requisition for 20 laptops": "create_requisition"},
    "crm": {"what's in the sales pipeline": "pipeline_summary", "any open complaints": "open_complaints"},
    "it_ops": {"did any backups fail last night": "failed_backups", "search the logs for timeout errors": "search_logs"},
    "oa": {"find the travel policy": "search_documents", "book room Everest tomorrow at 10": "book_room"},
}


def test_the_matching_tool_comes_first():
    for agent, cases in CASES.items():
        for text, tool in cases.items():
            assert shortlist(text, tools_for(agent))[0].name == tool, text


def test_no_match_offers_every_tool():
    tools = tools_for("erp")
    assert shortlist("hmm", tools) == tools
