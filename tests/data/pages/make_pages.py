# ruff: noqa: RUF001  (curly quotes are part of the articles)
"""Writes tests/data/pages/TEMPLATE/vN.html (and vN.expected.txt, the article
as written): three site templates, each in several revisions, some changing
only boilerplate. The pages are committed; rerun after editing this file:

    python tests/data/pages/make_pages.py tests/data/pages
"""

import sys
from pathlib import Path

out = Path(sys.argv[1])

# ---------------------------------------------------------------- WordPress
WP_BODY_1 = [
    "Today, Taliban forces attempted to enter Panjshir Valley through Anjuman Pass from Badakhshan, only to be met with fierce resistance resulting in heavy losses for the Taliban forcing them to retreat. The valley has never been captured by attacking forces for more than a century.",
    "The Panjshir Valley located 80km north of Kabul, is the last stronghold in Afghanistan which is not under Taliban rule. The narrow valley located deep in the Hindu Kush mountains has limited entry points and due to its geography it has a natural military advantage. It is being defended by anti-Taliban militia fighters and former Afghan security forces.",
    "Ahmad Shah Massoud was a popular person in Afghanistan over his role in fighting and defeating every invader. He was known as the \u2018Lion of Panjshir\u2019 and there are murals of him all over the country. Back in the 1980s he led Mujahideen fighters against the Soviet military.",
    "On Tuesday, Taliban spokesman Zabihullah Mujahid announced that they are in talks with the National Resistance Front (NRF) in an attempt to resolve the conflict \u2018peacefully\u2019. This comes days after the Taliban threatened them that they will destroy them.",
]
WP_MORE = "More details to follow."
WP_BODY_3 = [
    *WP_BODY_1,
    "Late on Wednesday, a spokesman for the National Resistance Front said the talks had broken down after the Taliban demanded that the resistance lay down its weapons without conditions.",
    "Fighting resumed overnight near the village of Khawak, according to residents reached by telephone, who said they could hear artillery from the direction of the pass until the early hours.",
]


def wp(body, *, comments, recent, nonce, ver, likes, comment_items=()):
    paras = "\n".join(f"<p>{p}</p>" for p in body)
    recent_li = "\n".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(recent))
    comment_html = "\n".join(
        f'<li class="comment" id="comment-{i}"><article class="comment-body"><footer class="comment-meta">'
        f'<div class="comment-author vcard"><b class="fn">{who}</b> <span class="says">says:</span></div>'
        f'<div class="comment-metadata"><a href="#comment-{i}">September 1, 2021 at 10:{i:02d} am</a></div></footer>'
        f'<div class="comment-content"><p>{what}</p></div>'
        f'<div class="reply"><a class="comment-reply-link" href="#respond">Reply</a></div></article></li>'
        for i, (who, what) in enumerate(comment_items)
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<title>Taliban suffer heavy losses in Panjshir Valley. &#8211; World Affairs Notebook</title>
<meta property="og:title" content="Taliban suffer heavy losses in Panjshir Valley.">
<meta property="article:published_time" content="2021-09-01T09:14:00+00:00">
<meta property="article:modified_time" content="2021-09-01T11:02:00+00:00">
<link rel="stylesheet" href="/wp-content/themes/twentytwenty/style.css?ver={ver}">
<script src="/wp-includes/js/jquery/jquery.min.js?ver={ver}"></script>
</head>
<body class="post-template-default single single-post">
<a class="skip-link screen-reader-text" href="#site-content">Skip to content</a>
<header id="site-header" class="header-footer-group">
  <div class="header-titles"><div class="site-title"><a href="/">World Affairs Notebook</a></div>
  <div class="site-description">Notes on the news, as it happens</div></div>
  <nav class="primary-menu-wrapper" aria-label="Horizontal"><ul class="primary-menu">
    <li><a href="/">Home</a></li><li><a href="/about/">About</a></li><li><a href="/contact/">Contact</a></li>
  </ul></nav>
</header>
<main id="site-content" role="main">
<article class="post-118 post type-post status-publish format-standard hentry category-afghanistan" id="post-118">
  <header class="entry-header has-text-align-center">
    <div class="entry-categories"><a href="/category/afghanistan/" rel="category tag">Afghanistan</a></div>
    <h1 class="entry-title">Taliban suffer heavy losses in Panjshir Valley.</h1>
    <div class="post-meta-wrapper"><ul class="post-meta">
      <li class="post-author"><span>By</span> <a href="/author/notebook/">notebook</a></li>
      <li class="post-date"><a href="/2021/09/01/panjshir/"><time datetime="2021-09-01T09:14:00+00:00">1 September 2021</time></a></li>
      <li class="post-comment-link"><a href="#respond">{comments}</a></li>
    </ul></div>
  </header>
  <figure class="wp-block-image size-large"><img src="/wp-content/uploads/2021/09/panjshir.jpg?resize=640%2C360&amp;ssl=1&amp;cb={ver}" alt="">
    <figcaption>Image Credit: Twitter account khminawi</figcaption></figure>
  <div class="entry-content">
<p><em>Image Credit: Twitter account khminawi</em></p>
{paras}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social sd-social-icon-text sd-sharing">
<h3 class="sd-title">Share this:</h3><div class="sd-content"><ul>
<li class="share-twitter"><a class="share-twitter sd-button" href="/2021/09/01/panjshir/?share=twitter" title="Click to share on Twitter"><span>Twitter</span></a></li>
<li class="share-facebook"><a class="share-facebook sd-button" href="/2021/09/01/panjshir/?share=facebook" title="Click to share on Facebook"><span>Facebook</span></a></li>
</ul></div></div></div>
<div id="jp-post-flair" class="sharedaddy sd-like-enabled"><div class="sharedaddy sd-block sd-like jetpack-likes-widget-wrapper" id="like-post-wrapper">
<h3 class="sd-title">Like this:</h3><div class="likes-widget-placeholder post-likes-widget-placeholder"><span class="button"><span>Like</span></span> <span class="loading">Loading...</span></div>
<span class="sd-text-color"></span><a class="sd-link-color"></a></div></div>
  </div>
  <div class="post-meta-wrapper post-meta-single post-meta-single-bottom"><ul class="post-meta"><li class="post-tags meta-wrapper"><span class="meta-text">Tags: <a href="/tag/panjshir/" rel="tag">Panjshir</a></span></li></ul></div>
  <div class="comments-wrapper section-inner">
    <div class="comments" id="comments"><div class="comments-header"><h2 class="comment-reply-title">{comments}</h2></div>
    <ol class="comment-list">{comment_html}</ol></div>
    <div id="respond" class="comment-respond">
      <h3 id="reply-title" class="comment-reply-title">Leave a Reply <small><a rel="nofollow" id="cancel-comment-reply-link" href="#respond" style="display:none;">Cancel reply</a></small></h3>
      <form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
        <div class="comment-form-subscriptions"><p>Fill in your details below or click an icon to log in:</p>
        <p><a href="https://gravatar.com/site/signup/">Logo</a></p></div>
        <div class="comment-form-service"><p>You are commenting using your WordPress.com account. ( <a href="/wp-login.php?action=logout">Log&nbsp;Out</a> /&nbsp; <a href="#">Change</a> )</p></div>
        <div class="comment-form-service"><p>Twitter picture</p><p>You are commenting using your Twitter account. ( <a href="#">Log&nbsp;Out</a> /&nbsp; <a href="#">Change</a> )</p></div>
        <div class="comment-form-service"><p>Facebook photo</p><p>You are commenting using your Facebook account. ( <a href="#">Log&nbsp;Out</a> /&nbsp; <a href="#">Change</a> )</p></div>
        <p class="comment-form-comment"><label for="comment">Comment</label><textarea id="comment" name="comment"></textarea></p>
        <p class="comment-subscription-form"><input type="checkbox" name="subscribe_blog" id="subscribe_blog"> <label for="subscribe_blog">Notify me of new posts via email.</label></p>
        <input type="hidden" id="_wpnonce" name="_wpnonce" value="{nonce}">
        <p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p>
      </form>
      <p class="comment-status">Connecting to %s</p>
    </div>
  </div>
</article>
</main>
<aside class="widget-area" role="complementary">
  <section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul>
{recent_li}
  </ul></section>
  <section class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul><li><a href="/2021/09/">September 2021</a></li><li><a href="/2021/08/">August 2021</a></li></ul></section>
</aside>
<footer id="site-footer" class="header-footer-group"><p class="footer-copyright">&copy; 2021 <a href="/">World Affairs Notebook</a></p>
<p class="powered-by-wordpress"><a href="https://wordpress.org/">Powered by WordPress</a></p>
<p>Blog at WordPress.com.</p></footer>
<div id="likes-other-gravatars"><div class="likes-text"><span>%d</span> bloggers like this:</div><ul class="wpl-avatars sd-like-gravatars"></ul></div>
<script>var wpcom_nonce = "{nonce}"; var cachebuster = "{ver}";</script>
</body>
</html>
"""


RECENT_A = ["Kabul airport evacuation ends", "What the NRF wants", "Resistance in the north"]
RECENT_B = ["Panjshir: a short history", "Kabul airport evacuation ends", "What the NRF wants"]

pages = {
    "wordpress/v1.html": wp(
        [*WP_BODY_1, WP_MORE],
        comments="No Comments",
        recent=RECENT_A,
        nonce="5f1a9c3e7b",
        ver="1630487100",
        likes=0,
    ),
    # boilerplate only: comment count, comments, sidebar, nonce, cache-buster
    "wordpress/v2.html": wp(
        [*WP_BODY_1, WP_MORE],
        comments="2 Comments",
        recent=RECENT_B,
        nonce="a8d04e21f9",
        ver="1630490701",
        likes=3,
        comment_items=[
            ("Farid", "Stay strong Panjshir. The whole country is watching."),
            ("J. Miller", "Is there any confirmation of these numbers from a second source?"),
        ],
    ),
    # the article: "More details to follow." becomes two paragraphs
    "wordpress/v3.html": wp(
        WP_BODY_3,
        comments="3 Comments",
        recent=RECENT_B,
        nonce="0c77b25d13",
        ver="1630494302",
        likes=5,
        comment_items=[
            ("Farid", "Stay strong Panjshir. The whole country is watching."),
            ("J. Miller", "Is there any confirmation of these numbers from a second source?"),
            ("anon", "Thanks for the update."),
        ],
    ),
}

# ---------------------------------------------------------------- newspaper
NEWS_1 = [
    "At least 12 people have died after a passenger train derailed near the town of Harwick on Monday morning, emergency services said.",
    "The train, carrying about 300 passengers from the coast to the capital, left the tracks shortly after 7am on a bend south of the town, the regional rail operator said in a statement.",
    "Rescue teams worked through the morning to reach passengers trapped in the two front carriages, which overturned down an embankment.",
    "\u201cThe scene is one of the worst I have seen in thirty years of service,\u201d said the county\u2019s chief fire officer, Margaret Okafor.",
    "The cause of the derailment is not yet known. The transport minister said an independent investigation had been ordered.",
    "This is a developing story and will be updated.",
]
NEWS_3 = [p.replace("At least 12 people", "At least 15 people") for p in NEWS_1]
NEWS_4 = [
    *NEWS_3[:5],
    "Investigators from the rail accident board arrived at the site in the afternoon and said they would examine the track and the train’s data recorder.",
    "The operator said services between Harwick and the capital would be suspended until at least Wednesday.",
]


def news(body, *, updated, related, ad_id, views, most_read):
    paras = "\n".join(f'<p class="article-body__paragraph">{p}</p>' for p in body)
    rel = "\n".join(
        f'<li class="related__item"><a href="/news/{i}"><img src="/img/{i}.jpg" alt=""><h3>{t}</h3><span class="related__time">{m} minutes ago</span></a></li>'
        for i, (t, m) in enumerate(related)
    )
    most = "\n".join(f'<li><a href="/news/m{i}">{t}</a></li>' for i, t in enumerate(most_read))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Harwick train derailment: at least people dead | The Daily Courier</title>
<meta property="og:title" content="Harwick train derailment kills passengers">
<meta property="article:published_time" content="2026-03-02T08:05:00Z">
<meta name="csrf-token" content="{ad_id}-tok">
<script async src="https://ads.example.net/tag.js?slot={ad_id}"></script>
</head>
<body>
<div class="top-banner"><a href="/subscribe">Subscribe for \u00a31 a week</a> | <a href="/login">Sign in</a></div>
<header class="masthead"><a class="logo" href="/">The Daily Courier</a>
<nav class="sections"><a href="/news">News</a> <a href="/sport">Sport</a> <a href="/business">Business</a> <a href="/opinion">Opinion</a> <a href="/culture">Culture</a></nav></header>
<div class="ad ad--leaderboard" id="ad-{ad_id}" data-slot="{ad_id}"><span class="ad__label">Advertisement</span><iframe src="https://ads.example.net/frame?slot={ad_id}"></iframe></div>
<main>
<article class="article">
  <div class="live-header"><span class="live-badge">LIVE</span> <span class="live-updated">Updated {updated}</span> <span class="live-views">{views} people are reading this</span></div>
  <h1 class="article__headline">Harwick train derailment kills passengers</h1>
  <p class="article__standfirst">Rescue teams search overturned carriages after the morning service left the tracks south of Harwick</p>
  <div class="byline">By <a rel="author" href="/profile/amira-hassan">Amira Hassan</a>, Transport correspondent <time datetime="2026-03-02T08:05:00Z">2 March 2026</time></div>
  <div class="share-bar"><span>Share</span> <a href="https://twitter.com/intent/tweet">Twitter</a> <a href="https://www.facebook.com/sharer">Facebook</a> <a href="mailto:?subject=x">Email</a> <span class="share-count">{views} shares</span></div>
  <figure class="article__image"><img src="/img/harwick.jpg" alt="The derailed carriages"><figcaption>The derailed carriages south of Harwick. Photograph: Tom Reid/Courier</figcaption></figure>
  <div class="article-body">
{paras}
  </div>
  <div class="newsletter-signup"><h3>Get the morning briefing</h3><p>Sign up to our newsletter for the day\u2019s top stories.</p><form><input type="email" placeholder="Email address"><input type="hidden" name="csrf" value="{ad_id}-tok"><button>Sign up</button></form></div>
  <div class="ad ad--inline" id="ad-inline-{ad_id}"><span class="ad__label">Advertisement</span></div>
  <aside class="related"><h2>Related stories</h2><ul>
{rel}
  </ul></aside>
  <section class="comments-teaser"><a href="#comments">{views} comments</a></section>
</article>
<aside class="most-read"><h2>Most read</h2><ol>
{most}
</ol></aside>
</main>
<footer class="site-footer"><p>\u00a9 2026 The Daily Courier Ltd. All rights reserved.</p><nav><a href="/terms">Terms</a> <a href="/privacy">Privacy</a> <a href="/cookies">Cookie settings</a></nav></footer>
</body>
</html>
"""


REL_A = [
    ("Rail strike talks collapse", 5),
    ("Harwick bypass opens a year late", 42),
    ("Storm warning for the coast", 58),
]
REL_B = [
    ("Harwick: what we know so far", 1),
    ("Rail strike talks collapse", 7),
    ("Timeline: Britain's worst rail crashes", 12),
]
MOST_A = ["Harwick train derailment", "Budget: what it means for you", "Cup final tickets sell out"]
MOST_B = [
    "Budget: what it means for you",
    "Harwick train derailment",
    "Storm warning for the coast",
]

pages |= {
    "newspaper/v1.html": news(
        NEWS_1, updated="5 minutes ago", related=REL_A, ad_id="a93f1", views=1204, most_read=MOST_A
    ),
    # boilerplate only: live stamp, related rail, ad slot ids, csrf token, share and reader counts
    "newspaper/v2.html": news(
        NEWS_1, updated="1 minute ago", related=REL_B, ad_id="c02b7", views=5873, most_read=MOST_B
    ),
    # one word of the article: 12 dead -> 15 dead
    "newspaper/v3.html": news(
        NEWS_3, updated="2 minutes ago", related=REL_B, ad_id="d4410", views=9310, most_read=MOST_B
    ),
    # the marker goes, two paragraphs arrive
    "newspaper/v4.html": news(
        NEWS_4, updated="just now", related=REL_A, ad_id="e7731", views=12877, most_read=MOST_A
    ),
    # a paywall served with 200: the article replaced by a fragment
    "newspaper/paywall.html": news(
        ["Harwick train derailment: subscribe to read the full story."],
        updated="just now",
        related=REL_A,
        ad_id="f0000",
        views=13002,
        most_read=MOST_A,
    ),
}

# ---------------------------------------------------------------- Ghost
GHOST_1 = [
    "The city council voted on Thursday night to close the Eastgate public library at the end of the year, ending a campaign by residents that had drawn more than 4,000 signatures.",
    "Councillors said the building needed repairs that would cost more than the service\u2019s entire annual budget, and that the branch\u2019s lending would move to the central library two miles away.",
    "Campaigners said the decision would leave the east of the city without a library for the first time since 1903, and that many of the branch\u2019s regular users could not travel into the centre.",
    "\u201cWe were told there would be a consultation, and there was one, and then they did what they had always planned,\u201d said Ruth Adeyemi, who organised the petition.",
]
GHOST_3 = [
    *GHOST_1[:1],
    "Councillors said the building needed repairs that would cost more than the service’s entire annual budget. Lending will move to the central library, two miles away, and a mobile library will visit Eastgate twice a week.",
    *GHOST_1[2:],
]


def ghost(body, *, title, claps, responses, more, members):
    paras = "\n".join(f"<p>{p}</p>" for p in body)
    more_html = "\n".join(
        f'<article class="post-card"><a class="post-card-image-link" href="/{i}/"><img src="/content/images/{i}.jpg" alt=""></a><div class="post-card-content"><h2 class="post-card-title">{t}</h2><div class="post-card-excerpt">{x}</div><footer class="post-card-meta"><span class="post-card-meta-length">{n} min read</span></footer></div></article>'
        for i, (t, x, n) in enumerate(more)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-02-26T21:40:00.000Z">
<meta property="article:modified_time" content="2026-02-27T08:10:00.000Z">
<meta name="generator" content="Ghost 5.80">
<link rel="stylesheet" href="/assets/built/screen.css?v=8c1e0f{claps}">
</head>
<body class="post-template">
<div class="viewport">
<header id="gh-head" class="gh-head outer"><div class="gh-head-inner inner">
<a class="gh-head-logo" href="/">The Eastgate Dispatch</a>
<nav class="gh-head-menu"><ul class="nav"><li><a href="/">Home</a></li><li><a href="/council/">Council</a></li><li><a href="/about/">About</a></li></ul></nav>
<div class="gh-head-actions"><a class="gh-head-link" href="#/portal/signin">Sign in</a> <a class="gh-head-button" href="#/portal/signup">Subscribe</a></div>
</div></header>
<div class="site-content">
<main id="site-main" class="site-main">
<article class="article post tag-council">
<header class="article-header gh-canvas">
  <section class="article-tag post-card-tags"><span class="post-card-primary-tag"><a href="/tag/council/">Council</a></span></section>
  <h1 class="article-title">{title}</h1>
  <p class="article-excerpt">Residents\u2019 four-year campaign to save the Eastgate branch ends in defeat.</p>
  <div class="article-byline"><section class="article-byline-content"><ul class="author-list"><li class="author-list-item"><a href="/author/leo/" class="author-avatar"><img class="author-profile-image" src="/content/images/leo.jpg" alt="Leo Brandt"></a></li></ul>
  <div class="article-byline-meta"><h4 class="author-name"><a href="/author/leo/">Leo Brandt</a></h4>
  <div class="byline-meta-content"><time class="byline-meta-date" datetime="2026-02-26">Feb 26, 2026</time> <span class="byline-reading-time"><span class="bull">&bull;</span> 3 min read</span></div></div></section></div>
  <figure class="article-image"><img src="/content/images/library.jpg" alt="Eastgate library"><figcaption><span>Photo by <a href="https://unsplash.com/@someone">Jane Doe</a> / <a href="https://unsplash.com">Unsplash</a></span></figcaption></figure>
</header>
<section class="gh-content gh-canvas">
{paras}
</section>
<section class="article-actions gh-canvas"><button class="clap-button" aria-label="clap">\U0001f44f {claps}</button> <a class="responses" href="#comments">{responses} responses</a> <button class="bookmark">Save</button></section>
<section class="footer-cta outer"><div class="inner"><h2 class="footer-cta-title">Sign up for more like this.</h2><a class="footer-cta-button" href="#/portal">Enter your email <span>Subscribe</span></a><p>Join {members} members who get every story by email.</p></div></section>
<section class="article-comments gh-canvas"><div id="ghost-comments-root" data-count="{responses}"></div></section>
</article>
</main>
<aside class="read-more-wrap outer"><div class="read-more inner"><h3>Read more</h3>
{more_html}
</div></aside>
</div>
<footer class="site-footer outer"><div class="inner"><section class="copyright"><a href="/">The Eastgate Dispatch</a> &copy; 2026</section><nav class="site-footer-nav"><a href="/privacy/">Privacy</a></nav><div class="gh-powered-by"><a href="https://ghost.org/" target="_blank" rel="noopener">Powered by Ghost</a></div></div></footer>
</div>
</body>
</html>
"""


MORE_A = [
    (
        "Bus lane plan paused",
        "The council has paused its plan for a bus lane on the high street.",
        2,
    ),
    ("Market hall reopens", "After two years of repairs the market hall is open again.", 4),
]
MORE_B = [
    ("Who is on the new cabinet", "A look at the councillors who will run the city.", 5),
    (
        "Bus lane plan paused",
        "The council has paused its plan for a bus lane on the high street.",
        2,
    ),
]
T1 = "Council votes to close Eastgate library"
T3 = "Council votes to close Eastgate library; mobile service promised"

pages |= {
    "ghost/v1.html": ghost(GHOST_1, title=T1, claps=12, responses=0, more=MORE_A, members="1,204"),
    # boilerplate only: claps, responses, read-more rail, member count, asset version
    "ghost/v2.html": ghost(GHOST_1, title=T1, claps=97, responses=6, more=MORE_B, members="1,219"),
    # the article: headline and the second paragraph edited
    "ghost/v3.html": ghost(GHOST_3, title=T3, claps=131, responses=9, more=MORE_B, members="1,233"),
}

GHOST_DEK = "Residents\u2019 four-year campaign to save the Eastgate branch ends in defeat."
BODIES = {
    "wordpress/v1.html": ("Taliban suffer heavy losses in Panjshir Valley.", [*WP_BODY_1, WP_MORE]),
    "wordpress/v2.html": ("Taliban suffer heavy losses in Panjshir Valley.", [*WP_BODY_1, WP_MORE]),
    "wordpress/v3.html": ("Taliban suffer heavy losses in Panjshir Valley.", WP_BODY_3),
    "newspaper/v1.html": ("Harwick train derailment kills passengers", NEWS_1),
    "newspaper/v2.html": ("Harwick train derailment kills passengers", NEWS_1),
    "newspaper/v3.html": ("Harwick train derailment kills passengers", NEWS_3),
    "newspaper/v4.html": ("Harwick train derailment kills passengers", NEWS_4),
    # Ghost's custom excerpt sits in the article header, written by the author:
    # article text (trafilatura keeps it; the newspaper's standfirst it does not).
    "ghost/v1.html": (T1, [GHOST_DEK, *GHOST_1]),
    "ghost/v2.html": (T1, [GHOST_DEK, *GHOST_1]),
    "ghost/v3.html": (T3, [GHOST_DEK, *GHOST_3]),
}
for name, html in pages.items():
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    if name in BODIES:
        title, body = BODIES[name]
        # The expected article: its headline, then its paragraphs.
        path.with_suffix(".expected.txt").write_text(
            title + "\n\n" + "\n\n".join(body) + "\n", encoding="utf-8"
        )
    print(path)
