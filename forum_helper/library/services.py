from forum_helper.analysis import Analysis


def references_for_analysis(*, analysis: Analysis) -> list[dict]:
    """Reference passages explaining each category of a finding. (Placeholder until the library exists.)"""
    return []
