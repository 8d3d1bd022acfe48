from django.urls import path

from forum_helper.rules import apis, views

app_name = "rules"
urlpatterns = [
    path("", views.rule_list_view, name="list"),
    path("new/", views.rule_create_view, name="create"),
    path("versions/diff/", views.ruleset_diff_view, name="ruleset-diff"),
    path("backtests/<int:backtest_id>/", views.backtest_detail_view, name="backtest"),
    path("backtests/<int:backtest_id>/status/", views.backtest_status_view, name="backtest-status"),
    path("api/rules/", apis.RuleListApi.as_view(), name="api-rules"),
    path("api/rules/<str:rule_id>/", apis.RuleDetailApi.as_view(), name="api-rule"),
    path("api/rules/<str:rule_id>/revisions/", apis.RuleRevisionListApi.as_view(), name="api-rule-revisions"),
    path("api/backtests/", apis.BacktestCreateApi.as_view(), name="api-backtests"),
    path("api/backtests/<int:backtest_id>/", apis.BacktestDetailApi.as_view(), name="api-backtest"),
    path("<str:rule_id>/", views.rule_detail_view, name="detail"),
    path("<str:rule_id>/diff/", views.rule_diff_view, name="diff"),
    path("<str:rule_id>/rollback/", views.rule_rollback_view, name="rollback"),
]
