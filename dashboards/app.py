"""multicloud-planner dashboard, the entry point: `mcplan dashboard` or
`streamlit run dashboards/app.py`.

This file is the frame around every page: page settings, the language switch and the navigation.
The pages live in dashboards/app_pages/ (not `pages/`: Streamlit treats a folder of that name as
a legacy multipage app and, until st.navigation has run once, serves its files without this frame).
Every string comes from dashboards/i18n/<lang>.yaml.
"""

import streamlit as st
from ui.i18n import init_language, language_switch, t
from ui.widgets import sync_url

st.set_page_config(page_title="mcplan", page_icon=":material/cloud:", layout="wide")
init_language()

PAGES = [  # file, title key, icon, URL path
    ("app_pages/catalog.py", "nav.catalog", ":material/public:", "catalog"),
    ("app_pages/plan.py", "nav.plan", ":material/account_tree:", "plan"),
    ("app_pages/compare.py", "nav.compare", ":material/compare_arrows:", "compare"),
    ("app_pages/whatif.py", "nav.whatif", ":material/crisis_alert:", "whatif"),
    ("app_pages/learn.py", "nav.learn", ":material/school:", "learn"),
]
pages = [
    st.Page(file, title=t(title), icon=icon, url_path=path, default=(i == 0))
    for i, (file, title, icon, path) in enumerate(PAGES)
]
page = st.navigation(pages)

st.sidebar.markdown(f"**{t('app.name')}**")
st.sidebar.caption(t("app.tagline"))
language_switch()
sync_url()

page.run()
sync_url()  # after the page: a Solve or a relaxation may have changed the plan
